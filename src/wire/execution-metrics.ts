/**
 * The key layout of Sidekiq's execution metrics (`Sidekiq::Metrics::ExecutionTracker`), the data
 * the Web UI's Metrics page reads, per Sidekiq version. No I/O: the engine's writer
 * (src/engine/sidekiq-metrics.ts) asks a layout for its keys and TTLs.
 *
 * What a Sidekiq server writes at every flush (on each heartbeat, 10 s), for the jobs run since:
 *   j|<time bucket>       HASH, HINCRBY `<Class>|p` (processed, failures included), `<Class>|f`
 *                         (failed), `<Class>|ms` (run time of the successful ones, integer ms);
 *                         EXPIRE its TTL on every flush
 *   <histogram key>       BITFIELD OVERFLOW SAT INCRBY u16 #<i> n: 26 unsigned 16-bit counters
 *                         of successful run times (bucket i: the first ms < BUCKET_MS[i]);
 *                         EXPIRE 8 h
 * `<Class>` is the job's `wrapped` class when it has one (ActiveJob), else `class`
 * (Sidekiq::Metrics::Middleware#call: `hash["wrapped"] || hash["class"]`). All times UTC.
 *
 * Sources (sidekiq/sidekiq, lib/sidekiq/metrics/):
 * - 7.x tracking.rb ExecutionTracker#flush: `nowmin = now.strftime("%Y%m%d|%-H:%-M")`, the
 *   one bucket `["j", jobs, nowmin, SHORT_TERM]`, `SHORT_TERM = 8 * 60 * 60` (the daily and
 *   hourly rollups commented out); query.rb reads `"j|#{time.strftime("%Y%m%d")}|#{time.hour}:#{time.min}"`.
 *   7.x shared.rb Histogram#persist: `window = now.utc.strftime("%d-%H:%-M")`,
 *   `key = "#{@klass}-#{window}"`, `HISTOGRAM_TTL = 8 * 60 * 60`.
 * - 8.x tracking.rb (commit 607445d9) ExecutionTracker#flush: `nowmid =
 *   now.strftime("%y%m%d|%-H:%M")[0..-2]` (10-minute bucket, MID_TERM = 3 days) and `nowshort =
 *   now.strftime("%y%m%d|%-H:%M")` (SHORT_TERM = 8 h); query.rb ROLLUPS read
 *   `j|%y%m%d|%-H:%M` (minutely) and `j|%y%m%d|%-H:<tens digit>` (hourly).
 *   8.x shared.rb Histogram#persist: `window = now.utc.strftime("%-d-%-H:%-M")`,
 *   `key = "h|#{@klass}-#{window}"`, `HISTOGRAM_TTL = 8 * 60 * 60`.
 * - Both: BUCKET_INTERVALS (shared.rb) as BUCKET_MS below; failed jobs count in `|p` and `|f`
 *   but not in `|ms` nor the histogram ("We don't track time for failed jobs").
 * The command streams captured from real Sidekiq 7.3.10 and 8.1.7 (fixtures/sidekiq-7.3.10 and
 * sidekiq-8.1.7, worker-success and worker-failure-retry) show these keys and TTLs
 * (`HardWorker-28-13:29`, `j|20261128|13:29` 28800; `h|HardWorker-28-13:58`, `j|261128|13:5`
 * 259200, `j|261128|13:58` 28800); test/engine/sidekiq-metrics.test.ts replays them.
 */

/** Histogram bucket upper bounds in ms (exclusive), Sidekiq's BUCKET_INTERVALS; the last catches all. */
export const HISTOGRAM_BUCKET_MS: readonly number[] = [
  20, 30, 45, 65, 100, 150, 225, 335, 500, 750, 1100, 1700, 2500, 3800, 5750,
  8500, 13000, 20000, 30000, 45000, 65000, 100000, 150000, 225000, 335000, 1e20,
];

/** The histogram bucket a run time of `ms` counts in (`ms < BUCKET_MS[i]`, as Histogram#record_time). */
export function histogramIndex(ms: number): number {
  for (let i = 0; i < HISTOGRAM_BUCKET_MS.length; i++) if (ms < HISTOGRAM_BUCKET_MS[i]!) return i;
  return HISTOGRAM_BUCKET_MS.length - 1;
}

/** One `j|…` hash a flush writes to, and the TTL it sets on it. */
export interface MetricsBucket {
  key: string;
  ttlSeconds: number;
}

/** The keys one Sidekiq version's ExecutionTracker writes (relative to the namespace). */
export interface ExecutionMetricsLayout {
  /** E.g. `7.x`. */
  readonly versions: string;
  /** The `j|…` hashes a flush at `atMs` increments, each with its TTL. */
  jobBuckets(atMs: number): MetricsBucket[];
  /** The histogram key of `className` for a flush at `atMs`. */
  histogramKey(className: string, atMs: number): string;
  readonly histogramTtlSeconds: number;
}

const EIGHT_HOURS = 8 * 60 * 60;
const THREE_DAYS = 3 * 24 * 60 * 60;

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** UTC date parts of `ms`. */
function utc(ms: number): { y: number; mo: number; d: number; h: number; mi: number } {
  const t = new Date(ms);
  return { y: t.getUTCFullYear(), mo: t.getUTCMonth() + 1, d: t.getUTCDate(), h: t.getUTCHours(), mi: t.getUTCMinutes() };
}

/** Sidekiq 7.x: one minute bucket `j|YYYYMMDD|H:M` (unpadded hour and minute); histogram `<Class>-DD-HH:M`. */
export const SIDEKIQ7_EXECUTION_METRICS: ExecutionMetricsLayout = {
  versions: '7.x',
  jobBuckets(atMs) {
    const t = utc(atMs);
    return [{ key: `j|${t.y}${pad2(t.mo)}${pad2(t.d)}|${t.h}:${t.mi}`, ttlSeconds: EIGHT_HOURS }];
  },
  histogramKey(className, atMs) {
    const t = utc(atMs);
    return `${className}-${pad2(t.d)}-${pad2(t.h)}:${t.mi}`;
  },
  histogramTtlSeconds: EIGHT_HOURS,
};

/**
 * Sidekiq 8.x: a 10-minute bucket `j|YYMMDD|H:<tens digit of the minute>` (3 days) and a minute
 * bucket `j|YYMMDD|H:MM` (two-digit minute, 8 h); histogram `h|<Class>-D-H:M` (all unpadded).
 */
export const SIDEKIQ8_EXECUTION_METRICS: ExecutionMetricsLayout = {
  versions: '8.x',
  jobBuckets(atMs) {
    const t = utc(atMs);
    const day = `${pad2(t.y % 100)}${pad2(t.mo)}${pad2(t.d)}`;
    const minute = `j|${day}|${t.h}:${pad2(t.mi)}`;
    return [
      { key: minute.slice(0, -1), ttlSeconds: THREE_DAYS },
      { key: minute, ttlSeconds: EIGHT_HOURS },
    ];
  },
  histogramKey(className, atMs) {
    const t = utc(atMs);
    return `h|${className}-${t.d}-${t.h}:${t.mi}`;
  },
  histogramTtlSeconds: EIGHT_HOURS,
};
