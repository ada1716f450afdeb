# Sidekiq worker for the benchmark: `sidekiq -r sidekiq_worker.rb -c <n> -q bench`.
#
# Loaded into a real Sidekiq process (6.4.1 from Debian's ruby-sidekiq). A server middleware
# counts jobs and records the first start and the last finish, so boot time is excluded; the
# process speaks the worker protocol of bench/systems/types.ts on stdout (Sidekiq's own log goes
# to stderr at WARN). The :startup hook runs before Sidekiq starts its fetchers, so it says
# "ready" there and holds the boot until "go" on stdin. It exits after "stop", or when stdin
# closes.
require "json"
require "logger"
require "sidekiq"

$stdout.sync = true
Sidekiq.logger = Logger.new($stderr)
Sidekiq.logger.level = Logger::WARN

class NoopJob
  include Sidekiq::Worker

  def perform(*_args); end
end

module Bench
  LATENCY = ENV["BENCH_MODE"] == "latency"
  LOCK = Mutex.new
  @count = 0
  @first_start = 0.0
  @last_finish = 0.0
  @latencies = []
  @cpu0 = nil
  @cpu_at_last_job = 0
  @reported = 0

  class << self
    attr_reader :count

    def now_ms = Process.clock_gettime(Process::CLOCK_REALTIME, :float_millisecond)
    def cpu_us = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID, :microsecond)
    def emit(msg) = $stdout.write("#{JSON.generate(msg)}\n")

    def started(args)
      t = now_ms
      LOCK.synchronize do
        @first_start = t if @first_start.zero?
        @latencies << (t - args[0].to_f) if LATENCY
      end
    end

    def finished
      t = now_ms
      LOCK.synchronize do
        @count += 1
        @last_finish = t
      end
    end

    def ready_then_wait_for_go
      @cpu0 = cpu_us
      emit(type: "ready", pid: Process.pid)
      while (line = $stdin.gets)
        break if line.strip == "go"
      end
      exit!(0) if line.nil?
      Thread.new { progress_loop }
      Thread.new { command_loop }
    end

    # CPU is sampled when the count moved, so idle time after the last job is (nearly) excluded.
    def progress_loop
      @reported = 0
      loop do
        sleep 0.05
        next if @count == @reported
        @reported = @count
        @cpu_at_last_job = cpu_us - @cpu0
        emit(type: "progress", count: @reported)
      end
    end

    def command_loop
      while (line = $stdin.gets)
        next unless line.include?("stop")
        report
        break
      end
      exit!(0)
    end

    def report
      cpu = @count == @reported ? @cpu_at_last_job : cpu_us - @cpu0
      hwm = File.read("/proc/self/status")[/VmHWM:\s+(\d+)/, 1].to_i
      msg = { type: "report", count: @count, firstStartMs: @first_start, lastFinishMs: @last_finish, cpuUs: cpu, hwmKb: hwm }
      if LATENCY
        s = @latencies.sort
        q = ->(p) { s.empty? ? 0 : s[[s.size - 1, (p * s.size).ceil - 1].min] }
        msg[:latency] = { n: s.size, p50: q.(0.5), p99: q.(0.99), max: s.last || 0 }
      end
      emit(msg)
    end
  end

  class Middleware
    def call(_worker, job, _queue)
      Bench.started(job["args"])
      yield
      Bench.finished
    end
  end
end

Sidekiq.configure_server do |config|
  config.server_middleware { |chain| chain.add Bench::Middleware }
  config.on(:startup) { Bench.ready_then_wait_for_go }
end
