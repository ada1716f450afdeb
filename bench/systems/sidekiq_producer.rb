# Sidekiq producer for the benchmark: `ruby sidekiq_producer.rb`, configured by the environment
# described in bench/systems/types.ts. Uses Sidekiq's own client: Sidekiq::Client.push one at a
# time, Sidekiq::Client.push_bulk in batches, or push at a fixed rate; prints one report line.
require "json"
require "sidekiq"

$stdout.sync = true
queue = ENV.fetch("BENCH_QUEUE", "bench")
mode = ENV.fetch("BENCH_MODE", "one")
n = Integer(ENV.fetch("BENCH_N", "1000"))
batch = Integer(ENV.fetch("BENCH_BATCH", "1000"))
rate = Float(ENV.fetch("BENCH_RATE", "1000"))

def now_ms = Process.clock_gettime(Process::CLOCK_REALTIME, :float_millisecond)
def cpu_us = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID, :microsecond)

Sidekiq.redis(&:ping) # connect before timing
cpu0 = cpu_us
t0 = now_ms
case mode
when "one"
  n.times { Sidekiq::Client.push("class" => "NoopJob", "queue" => queue, "args" => [now_ms]) }
when "bulk"
  sent = 0
  while sent < n
    size = [batch, n - sent].min
    at = now_ms
    Sidekiq::Client.push_bulk("class" => "NoopJob", "queue" => queue, "args" => Array.new(size) { [at] })
    sent += size
  end
when "rate"
  sent = 0
  while sent < n
    due = [n, ((now_ms - t0) * rate / 1000).floor + 1].min
    while sent < due
      Sidekiq::Client.push("class" => "NoopJob", "queue" => queue, "args" => [now_ms])
      sent += 1
    end
    sleep 0.001
  end
else
  abort "unknown BENCH_MODE #{mode}"
end
elapsed = now_ms - t0
puts JSON.generate(type: "report", jobs: n, elapsedMs: elapsed, cpuUs: cpu_us - cpu0)
