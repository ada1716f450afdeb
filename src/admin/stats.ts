/**
 * The numbers Sidekiq::Stats reports, read from the layout's keys: processed and failed totals,
 * jobs enqueued over every queue, the sizes of schedule/retry/dead (or the failure list), the
 * registered processes and their busy count, and the default queue's latency.
 */
import type { Redis } from 'ioredis';
import type { Dialect, KeyLayout } from '../wire/index.js';
import type { FailedList } from './failed-list.js';
import type { JobSet } from './job-set.js';
import type { ProcessSet } from './processes.js';
import type { Queues } from './queues.js';

export interface Stats {
  /** `stat:processed` (Sidekiq and Resque count failures too; Verk only successes). */
  processed: number;
  failed: number;
  /** Jobs waiting over every queue. */
  enqueued: number;
  /** null where the runtime keeps no such set (Resque). */
  scheduledSize: number | null;
  retrySize: number | null;
  deadSize: number | null;
  /** Entries of the failure list, where the runtime keeps one (Resque), else null. */
  failedListSize: number | null;
  processesSize: number;
  /** Jobs running now over every process (Sidekiq's workers_size). */
  workersSize: number;
  /** Latency of the `default` queue, seconds. */
  defaultQueueLatency: number;
  /** When the latency was measured, epoch ms. */
  measuredAtMs: number;
}

export interface StatsSources {
  redis: Redis;
  keys: KeyLayout;
  layout: Dialect;
  queues: Queues;
  sets: Partial<Record<'scheduled' | 'retries' | 'dead', JobSet>>;
  failed: FailedList | undefined;
  processes: ProcessSet;
}

export async function readStats(s: StatsSources): Promise<Stats> {
  const size = (set: JobSet | undefined) => (set ? set.size() : Promise.resolve(null));
  const [counts, queues, scheduledSize, retrySize, deadSize, failedListSize, processesSize, workersSize, latency] = await Promise.all([
    s.redis.mget(s.keys.stat('processed'), s.keys.stat('failed')),
    s.queues.names().then((names) => Promise.all(names.map((n) => s.redis.llen(s.keys.queue(n))))),
    size(s.sets.scheduled), size(s.sets.retries), size(s.sets.dead),
    s.failed ? s.failed.size() : Promise.resolve(null),
    s.processes.size(),
    s.processes.busy(),
    s.queues.summary('default'),
  ]);
  return {
    processed: Number(counts[0] ?? 0),
    failed: Number(counts[1] ?? 0),
    enqueued: queues.reduce((a, b) => a + b, 0),
    scheduledSize, retrySize, deadSize, failedListSize, processesSize, workersSize,
    defaultQueueLatency: latency.latency,
    measuredAtMs: latency.measuredAtMs,
  };
}
