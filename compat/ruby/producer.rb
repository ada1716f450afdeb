# frozen_string_literal: true

# compat/ruby/producer.rb: enqueues jobs with the real Sidekiq 6.4.1 client, for kiqgate's
# live compatibility harness. Run as `REDIS_URL=... ruby compat/ruby/producer.rb < ops.json`.
#
# stdin holds one JSON document: an array of operations (a single object is also accepted).
#   {"op":"push", "class":"RecordJob", "args":[...], "queue":"q"?, "at":<float s>?, "retry":...?,
#    "extra":{...}?}            Sidekiq::Client.push; `extra` is merged into the job hash
#                               (e.g. {"backtrace": true, "tags": ["a"]})
#   {"op":"push_bulk", "class":..., "args":[[1],[2]], "queue":?, "at":?, "retry":?, "extra":?}
#                               Sidekiq::Client.push_bulk; contributes one jid per job
#   {"op":"perform_in", "class":..., "args":[...], "interval":<s>, "queue":?}
#                               what Worker.perform_in/perform_at do (enqueue_to_in), with a
#                               String class name: interval < 1e9 is relative to now, otherwise
#                               an absolute epoch; a time not in the future enqueues now
#   {"op":"raw_lpush", "queue":"q", "value":"<any string>"}
#                               SADD queues + LPUSH queue:<q> of the string as is (a stand-in
#                               producer for payloads the client would refuse, e.g. invalid JSON)
# stdout: a JSON array of the jids, in op order (push_bulk flattened; raw_lpush gives none;
# null where client middleware stopped a job).
#
# Class names are Strings, so the producer needs no job classes. Ruby's JSON.parse keeps big
# integers as Integers and `1.0` as a Float, so the args reach Sidekiq exactly as written.

require "json"
require "sidekiq"
require_relative "client_setup"

def job_item(op)
  item = {"class" => op.fetch("class"), "args" => op.fetch("args")}
  item["queue"] = op["queue"] if op.key?("queue")
  item["at"] = op["at"] if op.key?("at") && !op["at"].nil?
  item["retry"] = op["retry"] if op.key?("retry")
  item.merge!(op["extra"]) if op["extra"]
  item
end

def perform_in(op)
  # Mirrors Sidekiq::Worker::Setter / Client.enqueue_to_in, which need a Class.
  int = op.fetch("interval").to_f
  now = Time.now.to_f
  ts = (int < 1_000_000_000 ? now + int : int)
  item = {"class" => op.fetch("class"), "args" => op.fetch("args")}
  item["queue"] = op["queue"] if op.key?("queue")
  item["at"] = ts if ts > now
  Sidekiq::Client.push(item)
end

ops = JSON.parse($stdin.read)
ops = [ops] if ops.is_a?(Hash)
jids = []
ops.each do |op|
  case op.fetch("op")
  when "push" then jids << Sidekiq::Client.push(job_item(op))
  when "push_bulk" then jids.concat(Sidekiq::Client.push_bulk(job_item(op)))
  when "perform_in" then jids << perform_in(op)
  when "raw_lpush"
    queue = op.fetch("queue")
    Sidekiq.redis do |conn|
      conn.sadd("queues", queue)
      conn.lpush("queue:#{queue}", op.fetch("value"))
    end
  else abort "compat/ruby/producer.rb: unknown op #{op["op"].inspect}"
  end
end
puts JSON.generate(jids)
