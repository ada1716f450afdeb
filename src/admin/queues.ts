/**
 * Queues as Sidekiq::Queue shows them: size and latency. Latency is "now − enqueued_at of the
 * job that runs next" (the consuming end: Sidekiq's `LINDEX -1`, Resque's head), in seconds,
 * with the timestamp read in the unit its writer used (Sidekiq 8's ms, Verk's integer seconds,
 * float seconds elsewhere); 0 for an empty queue or a job without a time, as Sidekiq returns.
 */
import type { Redis } from 'ioredis';
import { type Dialect, type KeyLayout, decodeJob, dialectFor, nowMs } from '../wire/index.js';
import { scanKeys } from '../support/connection.js';
import { globEscape } from './bulk.js';

export interface QueueSummary {
  readonly name: string;
  readonly size: number;
  /** Seconds since the next job to run was enqueued (0: empty, or no time in the job). */
  readonly latency: number;
  /** When latency was measured (this process's clock, as Sidekiq's `Time.now`), epoch ms. */
  readonly measuredAtMs: number;
}

export class Queues {
  constructor(private readonly redis: Redis, private readonly keys: KeyLayout, private readonly layout: Dialect) {}

  /**
   * The queue names: the `queues` set; for a runtime that never writes it (Verk), the
   * `queue:<name>` lists found by SCAN.
   */
  async names(): Promise<string[]> {
    if (this.layout.traits.addsToQueuesSet) return (await this.redis.smembers(this.keys.queues)).sort();
    const prefix = this.keys.queue('');
    const found = await scanKeys(this.redis, `${globEscape(prefix)}*`);
    return found.map((k) => k.slice(prefix.length)).sort();
  }

  async summary(name: string): Promise<QueueSummary> {
    const key = this.keys.queue(name);
    const [size, next] = await Promise.all([
      this.redis.llen(key),
      this.redis.lindexBuffer(key, this.layout.queueEnds.pop === 'tail' ? -1 : 0),
    ]);
    const measuredAtMs = nowMs();
    return { name, size, latency: next ? latencyOf(next, measuredAtMs) : 0, measuredAtMs };
  }

  /** Every queue, by name. */
  async all(): Promise<QueueSummary[]> {
    return Promise.all((await this.names()).map((n) => this.summary(n)));
  }
}

/** Seconds from a payload's enqueue time to `atMs`; 0 when it has none or cannot be read. */
export function latencyOf(payload: Buffer, atMs: number): number {
  try {
    const job = decodeJob(payload);
    const enqueued = dialectFor(job.dialect).admin.enqueuedAtMs(job);
    return enqueued === undefined ? 0 : (atMs - enqueued) / 1000;
  } catch {
    return 0;
  }
}
