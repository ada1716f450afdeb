/**
 * A worker's Prometheus metrics (prom-client), in a registry of their own.
 *
 * Two kinds, so that the job path stays cheap:
 * - counted as jobs run, through the engine's job hook (JobObserver) and the runners' fetch
 *   hook: a few additions per job and per fetch, in plain numbers (job-tally.ts says why
 *   not prom-client's Counter and Histogram), rendered only when scraped;
 * - read from Redis when scraped ({@link WorkerMetrics.refresh}): one pipeline of LLEN, LINDEX,
 *   ZCARD and HGET for queue sizes and latency, the sorted sets, in-progress lists and the
 *   heartbeat, nothing in between scrapes.
 * Nothing here exists when the worker has no `metricsPort`: the engine pays nothing then.
 *
 * Class labels are the handler's class name; a class with no handler (a payload's name, which
 * anyone can write) counts as `(unregistered)`, so a hostile queue cannot grow the label set.
 */
import type { Redis } from 'ioredis';
import { Gauge, Registry } from 'prom-client';
import { JobTally, Series, registryMetric } from './job-tally.js';
import { type KeyLayout, type ListEnd, decodeJob } from '../wire/index.js';
import type { JobObserver } from '../engine/job-observer.js';

/** What the metrics read of the worker (a narrow view: tests and the Worker provide it). */
export interface MetricsSource {
  readonly keys: KeyLayout;
  readonly nodeId: string;
  /** The Sidekiq process key whose `beat` field is the heartbeat; undefined when none is written. */
  readonly heartbeatKey: string | undefined;
  /** The consuming end of the queues (where the oldest job waits). */
  readonly popEnd: ListEnd;
  queues(): string[];
  /** Jobs running now, per queue. */
  runningByQueue(): Map<string, number>;
  /** Whether a handler is registered for the class. */
  hasHandler(className: string): boolean;
}

/** Label of a job class that has no handler. */
export const UNREGISTERED_CLASS = '(unregistered)';

/** Run-time buckets in seconds: milliseconds jobs to five-minute ones. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const BATCH_BUCKETS = [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000];

export class WorkerMetrics implements JobObserver {
  readonly registry = new Registry();
  private readonly jobs: JobTally;
  private readonly fetchBatches = new Map<string, Series>();
  private readonly queueSize: Gauge<'queue'>;
  private readonly queueLatency: Gauge<'queue'>;
  private readonly inProgress: Gauge<'queue' | 'node'>;
  private readonly running: Gauge<'queue'>;
  private readonly setSize: Gauge<'set'>;
  private readonly heartbeatAge: Gauge;

  constructor(private readonly source: MetricsSource) {
    const registers = [this.registry];
    this.jobs = new JobTally(DURATION_BUCKETS, (className) => (source.hasHandler(className) ? className : UNREGISTERED_CLASS));
    for (const m of this.jobs.metrics({ processed: 'kiqgate_jobs_processed_total', failed: 'kiqgate_jobs_failed_total', duration: 'kiqgate_job_duration_seconds' })) {
      this.registry.registerMetric(m as unknown as Parameters<Registry['registerMetric']>[0]); // duck-typed: prom-client reads name, help, type, get()
    }
    this.registry.registerMetric(registryMetric('kiqgate_fetch_batch_size', 'Jobs moved into in-progress by one fetch (0: the queue was empty)', 'histogram',
      () => [...this.fetchBatches].flatMap(([queue, series]) => series.samples('kiqgate_fetch_batch_size', { queue }))) as unknown as Parameters<Registry['registerMetric']>[0]);
    this.queueSize = new Gauge({ name: 'kiqgate_queue_size', help: 'Jobs waiting in the queue (read at scrape)', labelNames: ['queue'], registers });
    this.queueLatency = new Gauge({ name: 'kiqgate_queue_latency_seconds', help: 'Age of the oldest waiting job, from its enqueued_at (0 when empty or unknown; read at scrape)', labelNames: ['queue'], registers });
    this.inProgress = new Gauge({ name: 'kiqgate_in_progress_size', help: "Jobs in this node's in-progress list (running, prefetched, or unacked; read at scrape)", labelNames: ['queue', 'node'], registers });
    this.running = new Gauge({ name: 'kiqgate_jobs_running', help: 'Handlers running now in this process', labelNames: ['queue'], registers });
    this.setSize = new Gauge({ name: 'kiqgate_set_size', help: 'Entries in the retry, schedule and dead sorted sets (read at scrape)', labelNames: ['set'], registers });
    this.heartbeatAge = new Gauge({ name: 'kiqgate_heartbeat_age_seconds', help: "Seconds since this process's Sidekiq heartbeat was last written (read at scrape)", registers });
  }

  /** The engine's job hook: one job ended (`failure`: what became of a failed one). */
  jobEnded(queue: string, className: string, durationMs: number, failure: string | undefined): void {
    if (failure === undefined) this.jobs.succeeded(queue, className, durationMs / 1000);
    else this.jobs.failedJob(queue, className, failure, durationMs / 1000);
  }

  /** The runners' fetch hook: one fetch reply of `n` jobs for `queue`. */
  readonly fetched = (queue: string, n: number): void => {
    let series = this.fetchBatches.get(queue);
    if (!series) this.fetchBatches.set(queue, (series = new Series(BATCH_BUCKETS)));
    series.observe(n);
  };

  /** Reads the Redis-side gauges in one pipeline (called on each scrape). */
  async refresh(redis: Redis, nowMs = Date.now()): Promise<void> {
    const { keys, nodeId, popEnd } = this.source;
    const queues = this.source.queues();
    const pipe = redis.pipeline();
    for (const q of queues) {
      pipe.llen(keys.queue(q));
      pipe.lindexBuffer(keys.queue(q), popEnd === 'tail' ? -1 : 0);
      pipe.llen(keys.inProgress(q, nodeId));
    }
    pipe.zcard(keys.retry).zcard(keys.schedule).zcard(keys.dead);
    const hb = this.source.heartbeatKey;
    if (hb) pipe.hget(hb, 'beat');
    const results = (await pipe.exec()) ?? [];
    const value = (i: number): unknown => {
      const [err, v] = results[i] ?? [null, undefined];
      if (err) throw err;
      return v;
    };
    const running = this.source.runningByQueue();
    let i = 0;
    for (const q of queues) {
      this.queueSize.set({ queue: q }, Number(value(i++)));
      this.queueLatency.set({ queue: q }, latencySeconds(value(i++) as Buffer | null, nowMs));
      this.inProgress.set({ queue: q, node: nodeId }, Number(value(i++)));
      this.running.set({ queue: q }, running.get(q) ?? 0);
    }
    for (const set of ['retry', 'schedule', 'dead']) this.setSize.set({ set }, Number(value(i++)));
    if (hb) {
      const beat = Number(value(i));
      if (Number.isFinite(beat) && beat > 0) this.heartbeatAge.set(Math.max(0, nowMs / 1000 - beat));
    }
  }
}

/** Seconds since the oldest job's enqueued_at (whatever unit its dialect wrote); 0 when unknown. */
function latencySeconds(raw: Buffer | null, nowMs: number): number {
  if (!raw) return 0;
  try {
    const at = decodeJob(raw).timestamp('enqueued_at');
    return at === undefined ? 0 : Math.max(0, (nowMs - at) / 1000);
  } catch {
    return 0; // an unreadable payload: it goes to dead when fetched; no latency to tell
  }
}
