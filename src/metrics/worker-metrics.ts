/**
 * A worker's Prometheus metrics (prom-client), in a registry of their own.
 *
 * Two kinds, so that the job path stays cheap:
 * - counted as jobs run, from the engine's events (job:finished, job:failed) and the runners'
 *   fetch hook: one Map lookup and two increments per job (label children cached per
 *   queue × class);
 * - read from Redis when scraped ({@link WorkerMetrics.refresh}): one pipeline of LLEN, LINDEX,
 *   ZCARD and HGET for queue sizes and latency, the sorted sets, in-progress lists and the
 *   heartbeat, nothing in between scrapes.
 * Nothing here exists when the worker has no `metricsPort`: the engine pays nothing then.
 *
 * Class labels are the handler's class name; a class with no handler (a payload's name, which
 * anyone can write) counts as `(unregistered)`, so a hostile queue cannot grow the label set.
 */
import type { Redis } from 'ioredis';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { type KeyLayout, type ListEnd, decodeJob } from '../wire/index.js';
import type { EngineEmitter } from '../engine/events.js';

/** What the metrics read of the worker (a narrow view: tests and the Worker provide it). */
export interface MetricsSource {
  readonly events: EngineEmitter;
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

interface ClassCounters {
  processed: ReturnType<Counter<'queue' | 'class'>['labels']>;
  succeeded: ReturnType<Histogram<'queue' | 'class' | 'status'>['labels']>;
}

export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly processed: Counter<'queue' | 'class'>;
  private readonly failed: Counter<'queue' | 'class' | 'outcome'>;
  private readonly duration: Histogram<'queue' | 'class' | 'status'>;
  private readonly fetchBatch: Histogram<'queue'>;
  private readonly queueSize: Gauge<'queue'>;
  private readonly queueLatency: Gauge<'queue'>;
  private readonly inProgress: Gauge<'queue' | 'node'>;
  private readonly running: Gauge<'queue'>;
  private readonly setSize: Gauge<'set'>;
  private readonly heartbeatAge: Gauge;
  private readonly perClass = new Map<string, ClassCounters>();
  private readonly fetchChildren = new Map<string, ReturnType<Histogram<'queue'>['labels']>>();
  private readonly listeners: Array<[string, (...args: any[]) => void]> = [];

  constructor(private readonly source: MetricsSource) {
    const registers = [this.registry];
    this.processed = new Counter({ name: 'kiqgate_jobs_processed_total', help: 'Jobs run to an outcome (success or failure), as Sidekiq counts processed', labelNames: ['queue', 'class'], registers });
    this.failed = new Counter({ name: 'kiqgate_jobs_failed_total', help: 'Jobs that failed, by what happened to them (retry, dead, drop, failed)', labelNames: ['queue', 'class', 'outcome'], registers });
    this.duration = new Histogram({ name: 'kiqgate_job_duration_seconds', help: 'Handler run time', labelNames: ['queue', 'class', 'status'], buckets: DURATION_BUCKETS, registers });
    this.fetchBatch = new Histogram({ name: 'kiqgate_fetch_batch_size', help: 'Jobs moved into in-progress by one fetch (0: the queue was empty)', labelNames: ['queue'], buckets: BATCH_BUCKETS, registers });
    this.queueSize = new Gauge({ name: 'kiqgate_queue_size', help: 'Jobs waiting in the queue (read at scrape)', labelNames: ['queue'], registers });
    this.queueLatency = new Gauge({ name: 'kiqgate_queue_latency_seconds', help: 'Age of the oldest waiting job, from its enqueued_at (0 when empty or unknown; read at scrape)', labelNames: ['queue'], registers });
    this.inProgress = new Gauge({ name: 'kiqgate_in_progress_size', help: "Jobs in this node's in-progress list (running, prefetched, or unacked; read at scrape)", labelNames: ['queue', 'node'], registers });
    this.running = new Gauge({ name: 'kiqgate_jobs_running', help: 'Handlers running now in this process', labelNames: ['queue'], registers });
    this.setSize = new Gauge({ name: 'kiqgate_set_size', help: 'Entries in the retry, schedule and dead sorted sets (read at scrape)', labelNames: ['set'], registers });
    this.heartbeatAge = new Gauge({ name: 'kiqgate_heartbeat_age_seconds', help: "Seconds since this process's Sidekiq heartbeat was last written (read at scrape)", registers });
  }

  /** Starts counting the engine's job events. */
  attach(): void {
    const { events } = this.source;
    const finished = (e: { queue: string; className: string; durationMs: number }) => {
      const c = this.countersOf(e.queue, e.className);
      c.processed.inc();
      c.succeeded.observe(e.durationMs / 1000);
    };
    const failed = (e: { queue: string; className: string; durationMs: number; outcome: string }) => {
      const cls = this.classLabel(e.className);
      this.countersOf(e.queue, e.className).processed.inc();
      this.failed.labels(e.queue, cls, e.outcome).inc();
      this.duration.labels(e.queue, cls, 'failure').observe(e.durationMs / 1000);
    };
    events.on('job:finished', finished);
    events.on('job:failed', failed);
    this.listeners.push(['job:finished', finished], ['job:failed', failed]);
  }

  /** Stops counting (the registry keeps what it counted). */
  detach(): void {
    for (const [name, fn] of this.listeners.splice(0)) this.source.events.off(name, fn);
  }

  /** The runners' fetch hook: one fetch reply of `n` jobs for `queue`. */
  readonly fetched = (queue: string, n: number): void => {
    let child = this.fetchChildren.get(queue);
    if (!child) this.fetchChildren.set(queue, (child = this.fetchBatch.labels(queue)));
    child.observe(n);
  };

  private classLabel(className: string): string {
    return this.source.hasHandler(className) ? className : UNREGISTERED_CLASS;
  }

  private countersOf(queue: string, className: string): ClassCounters {
    const key = `${queue}\u0000${className}`;
    let c = this.perClass.get(key);
    if (!c) {
      const cls = this.classLabel(className);
      c = { processed: this.processed.labels(queue, cls), succeeded: this.duration.labels(queue, cls, 'success') };
      this.perClass.set(key, c);
    }
    return c;
  }

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
