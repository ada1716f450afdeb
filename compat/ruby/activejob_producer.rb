# perform_later with every argument type ActiveJob 6.1 serializes, keyword arguments,
# set(wait:) and set(queue:). Each job goes to QUEUE (kiqgate's) and, where DIRECT is set, the
# same arguments also to DIRECT (run by Ruby itself, for comparison). Prints one JSON line:
# tag => {job_id, provider_job_id}.
require_relative "activejob_setup"

queue = ENV.fetch("QUEUE")
direct = ENV["DIRECT"]
types = [
  nil, true, false, "str ü 😀 \u2028 \"q\" \\", 42, -7, 2**70, -(2**63), 1.5, -0.0, 2.0, 1.0e+20, 1.5e-05,
  BigDecimal("1.23"), :pending, Date.new(2024, 2, 29),
  Time.at(1704164645, 123456789, :nsec).utc, Time.new(2024, 1, 2, 3, 4, 5.5r, "+09:00"),
  DateTime.new(2024, 1, 2, 3, 4, 5, "+01:00"), Time.find_zone!("Asia/Tokyo").local(2024, 1, 2, 3, 4, 5),
  2.days + 3.hours, 1.5.hours, Comparable, Person.new(42),
  {a: 1, "b" => 2, "3" => {nested: :sym}}, {}, ActiveSupport::HashWithIndifferentAccess.new("x" => {"y" => 1}),
  [1, [2, {k: "v"}]], []
]
out = {}
jobs = {
  "types" => [types, {}],
  "kwargs" => [[1], {name: "x", count: 2}],
  "positional-hash" => [[{name: "z", "kind" => "positional"}], {}],
}
jobs.each do |tag, (args, kw)|
  j = AjRecordJob.set(queue: queue).perform_later(tag, *args, **kw)
  out[tag] = {job_id: j.job_id, provider_job_id: j.provider_job_id}
  AjRecordJob.set(queue: direct).perform_later("#{tag}-direct", *args, **kw) if direct
end
j = AjRecordJob.set(queue: queue, wait: 2.seconds).perform_later("wait", 1)
out["wait"] = {job_id: j.job_id, provider_job_id: j.provider_job_id}
j = AjRecordJob.set(queue: :"#{queue}2", priority: 7).perform_later("queue2", "q")
out["queue2"] = {job_id: j.job_id, provider_job_id: j.provider_job_id}
puts JSON.generate(out)
