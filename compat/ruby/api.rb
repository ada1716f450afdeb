# frozen_string_literal: true

# compat/ruby/api.rb: runs one operation of the real Sidekiq 6.4.1 admin API (`sidekiq/api`)
# for kiqgate's live compatibility harness, so tests can check that what kiqgate writes is
# read correctly by Sidekiq's own dashboard code, and vice versa.
# Run as `REDIS_URL=... ruby compat/ruby/api.rb < op.json`; prints one JSON document.
#
# Ops ({"op": ...} plus the named fields):
#   retry_set | dead_set | schedule_set  {size, entries:[{jid, class, args, queue, retry_count,
#                                        error_message, error_class, failed_at, retried_at,
#                                        enqueued_at, created_at, score, value (raw string)}]}
#   retry_all                            RetrySet#retry_all; {retried, retry_size}
#   retry_jid {jid}                      RetrySet#find_job(jid).retry; {found}
#   dead_retry_all                       DeadSet#retry_all; {retried, dead_size}
#   kill_jid {jid}                       RetrySet#find_job(jid).kill (retry -> dead); {found}
#   process_set                          {size, processes:[{identity, hostname, pid, busy, queues,
#                                        concurrency, quiet, beat, tag, labels, started_at, rss,
#                                        stopping}]}
#   stats                                {processed, failed, enqueued, retry_size, dead_size,
#                                        scheduled_size, processes_size, workers_size,
#                                        default_queue_latency, queues:{name: size}}
#   queue {name}                         {name, size, latency, entries:[{jid, class, args,
#                                        enqueued_at, value (raw string)}]}
#   work_set                             {size, entries:[{process, thread, queue, run_at,
#                                        class, args, jid, payload}]}
#   quiet_process {identity}             Process#quiet! (LPUSH TSTP to <identity>-signals); {found}
#   stop_process {identity}              Process#stop!  (LPUSH TERM to <identity>-signals); {found}
#
# JSON output uses JSON.generate, so big Integers stay exact; each entry's `value` is the raw
# string from Redis for byte-exact comparisons.

require "json"
require "sidekiq"
require_relative "client_setup"
require "sidekiq/api"

def sorted_entry(e)
  {
    "jid" => e.jid, "class" => e.klass, "args" => e.args, "queue" => e.queue,
    "retry_count" => e["retry_count"], "error_message" => e["error_message"],
    "error_class" => e["error_class"], "failed_at" => e["failed_at"],
    "retried_at" => e["retried_at"], "enqueued_at" => e["enqueued_at"],
    "created_at" => e["created_at"], "score" => e.score, "value" => e.value
  }
end

def sorted_set(set)
  {"name" => set.name, "size" => set.size, "entries" => set.map { |e| sorted_entry(e) }}
end

def find_process(identity)
  Sidekiq::ProcessSet.new.find { |p| p.identity == identity }
end

def process_info(p)
  keys = %w[identity hostname pid busy queues concurrency quiet beat tag labels started_at rss]
  keys.to_h { |k| [k, p[k]] }.merge("stopping" => p.stopping?)
end

def run(op)
  case op.fetch("op")
  when "retry_set" then sorted_set(Sidekiq::RetrySet.new)
  when "dead_set" then sorted_set(Sidekiq::DeadSet.new)
  when "schedule_set" then sorted_set(Sidekiq::ScheduledSet.new)
  when "retry_all"
    set = Sidekiq::RetrySet.new
    before = set.size
    set.retry_all
    {"retried" => before, "retry_size" => set.size}
  when "dead_retry_all"
    set = Sidekiq::DeadSet.new
    before = set.size
    set.retry_all
    {"retried" => before, "dead_size" => set.size}
  when "retry_jid"
    entry = Sidekiq::RetrySet.new.find_job(op.fetch("jid"))
    entry&.retry
    {"found" => !entry.nil?}
  when "kill_jid"
    entry = Sidekiq::RetrySet.new.find_job(op.fetch("jid"))
    entry&.kill
    {"found" => !entry.nil?}
  when "process_set"
    set = Sidekiq::ProcessSet.new
    {"size" => set.size, "processes" => set.map { |p| process_info(p) }}
  when "stats"
    s = Sidekiq::Stats.new
    {
      "processed" => s.processed, "failed" => s.failed, "enqueued" => s.enqueued,
      "retry_size" => s.retry_size, "dead_size" => s.dead_size,
      "scheduled_size" => s.scheduled_size, "processes_size" => s.processes_size,
      "workers_size" => s.workers_size, "default_queue_latency" => s.default_queue_latency,
      "queues" => s.queues
    }
  when "queue"
    q = Sidekiq::Queue.new(op.fetch("name"))
    entries = q.map do |j|
      {"jid" => j.jid, "class" => j.klass, "args" => j.args, "enqueued_at" => j["enqueued_at"], "value" => j.value}
    end
    {"name" => q.name, "size" => q.size, "latency" => q.latency, "entries" => entries}
  when "work_set"
    ws = Sidekiq::WorkSet.new
    entries = ws.map do |process, thread, work|
      payload = work["payload"]
      {
        "process" => process, "thread" => thread, "queue" => work["queue"], "run_at" => work["run_at"],
        "class" => payload["class"], "args" => payload["args"], "jid" => payload["jid"], "payload" => payload
      }
    end
    {"size" => ws.size, "entries" => entries}
  when "quiet_process", "stop_process"
    p = find_process(op.fetch("identity"))
    op["op"] == "quiet_process" ? p&.quiet! : p&.stop!
    {"found" => !p.nil?}
  else abort "compat/ruby/api.rb: unknown op #{op["op"].inspect}"
  end
end

puts JSON.generate(run(JSON.parse($stdin.read)))
