# frozen_string_literal: true

# compat/ruby/jobs.rb: the job classes a real Sidekiq 6.4.1 server runs for kiqgate's live
# compatibility harness. Loaded with `sidekiq -r <abs path>/compat/ruby/jobs.rb`.
#
# Every job that reaches Ruby is recorded in the Redis hash `compat:received` (field = jid,
# value = JSON) exactly as Ruby saw it: the args re-encoded with JSON.generate (which keeps
# big Integers exact and writes Floats with a `.0`), args.inspect, a deep tree of Ruby class
# names, and the raw job string the processor fetched from Redis, byte for byte. Tests then
# assert on that record, never on logs.
#
# Environment:
#   REDIS_URL                      the Redis to use (required)
#   COMPAT_POLL_INTERVAL_AVERAGE   optional: Sidekiq.options[:poll_interval_average] in seconds,
#                                  to make the scheduled/retry poller run sooner than ~5-15 s
#
# strict_args: left at Sidekiq 6.4.1's default (:warn). Our producers must be judged by what
# a stock 6.4.1 install accepts; a non-JSON-safe arg logs a warning instead of raising.

require "json"
require "sidekiq"
require_relative "client_setup"

Sidekiq.configure_server do |config|
  config.redis = {url: REDIS_URL}
  if (avg = ENV["COMPAT_POLL_INTERVAL_AVERAGE"]) && !avg.empty?
    config.options[:poll_interval_average] = Float(avg)
  end
end

module Compat
  RECEIVED = "compat:received"
  ATTEMPTS = "compat:attempts"

  # The deep structure of Ruby class names, e.g. [1, 1.0, {"a" => nil}] gives
  # {"Array" => ["Integer", "Float", {"Hash" => {"a" => "NilClass"}}]}.
  def self.type_tree(value)
    case value
    when Hash then {"Hash" => value.each_with_object({}) { |(k, v), h| h[k.to_s] = type_tree(v) }}
    when Array then {"Array" => value.map { |v| type_tree(v) }}
    else value.class.name
    end
  end

  # The raw job string the processor fetched, kept per thread by RawJobCapture below.
  def self.raw_job
    Thread.current[:compat_raw_job]
  end

  # The job hash as the server middleware chain saw it (after JSON.parse of the raw string).
  def self.job_hash
    Thread.current[:compat_job_hash]
  end

  def self.record(worker, args)
    job = job_hash || {}
    entry = {
      "jid" => worker.jid,
      "class" => worker.class.name,
      "queue" => job["queue"],
      "args_json" => JSON.generate(args),
      "args_inspect" => args.inspect,
      "types" => args.map { |a| type_tree(a) },
      "raw_payload" => raw_job,
      "job_json" => (job.empty? ? nil : JSON.generate(job)),
      "retry_count" => job["retry_count"],
      "enqueued_at" => job["enqueued_at"],
      "created_at" => job["created_at"],
      "enqueued_at_class" => job["enqueued_at"].class.name,
      "created_at_class" => job["created_at"].class.name,
      "encoding" => args.select { |a| a.is_a?(String) }.map { |s| s.encoding.name }.uniq,
      "pid" => ::Process.pid,
      "recorded_at" => Time.now.to_f
    }
    Sidekiq.redis { |conn| conn.hset(RECEIVED, worker.jid, JSON.generate(entry)) }
  end

  def self.count_attempt(jid)
    Sidekiq.redis { |conn| conn.hincrby(ATTEMPTS, jid, 1) }
  end

  # Processor#process(work) is the only place the untouched job string is visible;
  # wrap it so the job can record the exact bytes it was fetched as.
  module RawJobCapture
    def process(work)
      Thread.current[:compat_raw_job] = work.job
      super
    ensure
      Thread.current[:compat_raw_job] = nil
    end
  end

  # Server middleware: keeps the parsed job hash for the job to record.
  class JobHashCapture
    def call(_worker, job, _queue)
      Thread.current[:compat_job_hash] = job
      yield
    ensure
      Thread.current[:compat_job_hash] = nil
    end
  end
end

if Sidekiq.server?
  require "sidekiq/processor"
  Sidekiq::Processor.prepend(Compat::RawJobCapture)
  Sidekiq.configure_server do |config|
    config.server_middleware { |chain| chain.add Compat::JobHashCapture }
  end
end

# Records what it received. Push it to any queue.
class RecordJob
  include Sidekiq::Worker

  def perform(*args)
    Compat.count_attempt(jid)
    Compat.record(self, args)
  end
end

# Same as RecordJob under another class name, with `critical` as its default queue.
class RecordJobCritical < RecordJob
  sidekiq_options queue: "critical"
end

# Always fails, so the job lands in the `retry` zset (and in `dead` after 3 retries).
class FailJob
  include Sidekiq::Worker
  sidekiq_options retry: 3

  def perform(*args)
    Compat.count_attempt(jid)
    raise RuntimeError, "compat failure #{args.inspect}"
  end
end

# Fails on its first run (tracked by the key compat:failonce:<jid>), then records like RecordJob.
class FailOnceJob
  include Sidekiq::Worker
  sidekiq_options retry: 3

  def perform(*args)
    Compat.count_attempt(jid)
    first = Sidekiq.redis { |conn| conn.set("compat:failonce:#{jid}", "1", nx: true) }
    raise RuntimeError, "compat failure #{args.inspect}" if first
    Compat.record(self, args)
  end
end

# Sleeps for args[0] seconds (a Float or Integer), then records: keeps a thread busy so the
# work set and the `busy` count can be observed.
class SleepJob
  include Sidekiq::Worker

  def perform(seconds, *rest)
    Compat.count_attempt(jid)
    sleep(seconds)
    Compat.record(self, [seconds, *rest])
  end
end

# Holds its thread until the Redis key args[0] exists (or args[1] seconds pass, default 60),
# then records: keeps a job busy for exactly as long as a test needs, with no sleeps to tune.
class LatchJob
  include Sidekiq::Worker

  def perform(latch_key, timeout = 60)
    Compat.count_attempt(jid)
    deadline = Time.now.to_f + timeout
    sleep 0.05 until Sidekiq.redis { |conn| conn.exists?(latch_key) } || Time.now.to_f > deadline
    Compat.record(self, [latch_key, timeout])
  end
end
