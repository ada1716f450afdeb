# ActiveJob 6.1 with Sidekiq's adapter, as a default Rails app configures it (no Rails app):
# Time.zone_default UTC, GlobalID.app "kiqapp". Used by activejob_jobs.rb (the sidekiq worker)
# and activejob_producer.rb (perform_later), for compat/live/activejob.test.ts.
require_relative "client_setup"
require "active_job"
require "active_support/time"
require "global_id"
require "json"
require "bigdecimal"

Sidekiq.configure_server { |config| config.redis = {url: REDIS_URL} }
ActiveJob::Base.queue_adapter = :sidekiq
ActiveJob::Base.logger = Logger.new(nil)
Time.zone_default = Time.find_zone!("UTC")
GlobalID.app = "kiqapp"

# A GlobalID model without a database: Person.find("42") is the person with that id.
class Person
  include GlobalID::Identification
  attr_reader :id
  def initialize(id) = @id = id
  def self.find(id) = new(id)
end

module Describe
  # What perform received, in detail: the Ruby class, inspect, a Hash's ruby2_keywords flag and
  # key classes, a time's iso8601(9) and zone, a Duration's value and parts.
  def self.call(v)
    cls = ActiveSupport::TimeWithZone === v ? "ActiveSupport::TimeWithZone" : v.class.name
    d = {"class" => cls, "inspect" => v.inspect}
    case v
    when Hash
      d["ruby2_keywords_hash"] = Hash.ruby2_keywords_hash?(v)
      d["entries"] = v.map { |k, x| [call(k), call(x)] }
    when Array then d["items"] = v.map { |x| call(x) }
    when ActiveSupport::TimeWithZone then d.merge!("iso8601_9" => v.iso8601(9), "time_zone" => v.time_zone.name)
    when Time, DateTime then d["iso8601_9"] = v.iso8601(9)
    when ActiveSupport::Duration then d.merge!("value" => v.value.inspect, "parts" => v.parts.inspect)
    when Person then d["inspect"] = "Person(#{v.id.inspect})"
    end
    d
  end
end

# Records what perform received into the Redis hash `aj:received`, field = the tag (first argument).
class AjRecordJob < ActiveJob::Base
  def perform(tag, *args, **kwargs)
    entry = {"args" => args.map { |a| Describe.call(a) }, "kwargs" => kwargs.map { |k, v| [k.inspect, Describe.call(v)] },
             "job_id" => job_id, "provider_job_id" => provider_job_id, "executions" => executions,
             "exception_executions" => exception_executions, "queue_name" => queue_name, "priority" => priority}
    Sidekiq.redis { |r| r.hset("aj:received", tag, JSON.generate(entry)) }
  end
end

# Re-enqueued by kiqgate's retry_on (the counter key "[FlakyError]"): records and succeeds.
class AjRetryJob < AjRecordJob
end
