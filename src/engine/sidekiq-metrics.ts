/**
 * Sidekiq's execution metrics (`Sidekiq::Metrics::ExecutionTracker`), written when the worker
 * stands in for a Sidekiq whose Web UI has a Metrics page (7, 8), so kiqgate's jobs appear there
 * beside Ruby's. The key layout is the peer dialect's (src/wire/execution-metrics.ts, with the
 * Sidekiq source it follows); this service only counts and flushes.
 *
 * As Sidekiq does: jobs are counted in memory (processed and failed per class, run time and the
 * run-time histogram of successful jobs only; the engine tells each job's end through the
 * JobObserver hook) and flushed on every heartbeat period (Sidekiq's `:beat`, 10 s) and once at
 * stop (Sidekiq 8's `:exit`), one pipeline per flush. Counting costs a Map lookup per job;
 * Redis sees nothing per job.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type ExecutionMetricsLayout, HISTOGRAM_BUCKET_MS, type KeyLayout, histogramIndex } from '../wire/index.js';
import type { EngineService } from './engine-view.js';
import type { JobObserver } from './job-observer.js';
import { Periodic } from './periodic.js';

/** One class's counts since the last flush. */
interface ClassTally {
  processed: number;
  failed: number;
  /** Successful runs (their `|ms` is written when there was at least one, even 0 ms, as Sidekiq's `+=`). */
  succeeded: number;
  ms: number;
  histogram: number[];
}

export class SidekiqExecutionMetrics implements EngineService, JobObserver {
  private tallies = new Map<string, ClassTally>();
  private readonly ticker: Periodic;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyLayout,
    private readonly layout: ExecutionMetricsLayout,
    periodMs: number,
    private readonly log: Logger,
  ) {
    this.ticker = new Periodic(periodMs, () => this.flush(), (err) => this.log.warn({ err }, 'could not write Sidekiq execution metrics; counts of this period are lost'));
  }

  /** Counts one job (Sidekiq's Middleware#call: processed, failed, run time of successes only). */
  jobEnded(_queue: string, className: string, durationMs: number, failure: string | undefined): void {
    const t = this.tally(className);
    t.processed++;
    if (failure !== undefined) {
      t.failed++;
      return;
    }
    t.succeeded++;
    const ms = Math.round(durationMs);
    t.ms += ms;
    t.histogram[histogramIndex(ms)]!++;
  }

  async start(): Promise<void> {
    await this.ticker.start();
  }

  /** Stops the periodic flush and writes what was counted since the last one (jobs have ended by then). */
  async stop(): Promise<void> {
    await this.ticker.stop();
    await this.flush().catch((err: unknown) => this.log.warn({ err }, 'could not write the last Sidekiq execution metrics'));
  }

  private tally(className: string): ClassTally {
    let t = this.tallies.get(className);
    if (!t) {
      t = { processed: 0, failed: 0, succeeded: 0, ms: 0, histogram: new Array<number>(HISTOGRAM_BUCKET_MS.length).fill(0) };
      this.tallies.set(className, t);
    }
    return t;
  }

  /** Writes the counts since the last flush (nothing when no job ran), as ExecutionTracker#flush. */
  async flush(atMs = Date.now()): Promise<void> {
    if (this.tallies.size === 0) return;
    const tallies = this.tallies;
    this.tallies = new Map();
    const { keys, layout } = this;
    const pipe = this.redis.pipeline();
    // The histograms first, then each j| bucket with its fields and TTL, in Sidekiq's order.
    for (const [cls, t] of tallies) {
      if (t.succeeded === 0) continue;
      const key = keys.key(layout.histogramKey(cls, atMs));
      const cmd: Array<string | number> = [key, 'OVERFLOW', 'SAT'];
      t.histogram.forEach((n, i) => { if (n > 0) cmd.push('INCRBY', 'u16', `#${i}`, n); });
      pipe.call('BITFIELD', ...cmd);
      pipe.expire(key, layout.histogramTtlSeconds);
    }
    for (const bucket of layout.jobBuckets(atMs)) {
      const key = keys.key(bucket.key);
      for (const [cls, t] of tallies) {
        if (t.succeeded > 0) pipe.hincrby(key, `${cls}|ms`, t.ms);
        if (t.failed > 0) pipe.hincrby(key, `${cls}|f`, t.failed);
        pipe.hincrby(key, `${cls}|p`, t.processed);
      }
      pipe.expire(key, bucket.ttlSeconds);
    }
    const results = (await pipe.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
  }
}
