/**
 * The writes of one runner tick, sent together: acks, failure entries, dead entries for
 * undecodable payloads, and the stat counters, queued on one pipeline with the next fetch.
 *
 * This is where throughput comes from: one round trip per tick instead of one per job. Each
 * job's write is still atomic on its own (a LREM; or the fail script, which moves the job from
 * in-progress to retry/dead in one step), and a job is only acked after it finished.
 */
import { createHash } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import { type KeyLayout, floatSeconds, nowMs } from '../wire/index.js';
import type { WorkerConfig } from './config.js';
import type { JobResult } from './job-runner.js';
import { scripts } from './scripts.js';

/** Sidekiq's daily stat keys live for 5 years. */
const DAILY_STAT_TTL = 157_680_000;

/** The companion hash recording why an undecodable payload went to dead (field = sha1 of the bytes). */
export function deadErrorsKey(keys: KeyLayout): string {
  return keys.key('kiqgate:dead_errors');
}

/** The dead-set trim arguments: entries older than `now - timeout`, and beyond the newest N. */
export function deadTrim(config: WorkerConfig, atMs: number): { trimBelow: string; keep: number } {
  return { trimBelow: floatSeconds(atMs - config.deadTimeoutSeconds * 1000), keep: config.deadMaxJobs };
}

/** The dead_errors record of an undecodable payload. */
export function deadErrorRecord(raw: Buffer, message: string, code: string, atMs: number): { field: string; value: string } {
  return {
    field: createHash('sha1').update(raw).digest('hex'),
    value: JSON.stringify({ error_message: message, error_class: 'WireError', code, failed_at: Number(floatSeconds(atMs)) }),
  };
}

export class TickBatch {
  private acks: Buffer[] = [];
  private others: Array<{ raw: Buffer; result: Exclude<JobResult, { kind: 'ack' }> }> = [];
  private processed = 0;
  private failed = 0;
  private succeeded = 0;

  constructor(
    private readonly keys: KeyLayout,
    private readonly config: WorkerConfig,
    private readonly queue: string,
    private readonly inProgressKey: string,
  ) {}

  get size(): number {
    return this.acks.length + this.others.length;
  }

  add(raw: Buffer, result: JobResult): void {
    this.processed++;
    if (result.kind === 'ack') {
      this.succeeded++;
      this.acks.push(raw);
    } else {
      this.failed++;
      this.others.push({ raw, result });
    }
  }

  /**
   * Queues every pending write on `pipe` and empties the batch. Acks are returned, not queued:
   * the caller sends them with the next fetch (ack-and-fetch-2.lua), one command for both.
   */
  writeTo(pipe: ChainableCommander): Buffer[] {
    const acks = this.acks;
    if (this.size === 0) return acks;
    const { keys, config, inProgressKey } = this;
    for (const { raw, result } of this.others) {
      const errors = deadErrorsKey(keys);
      if (result.kind === 'undecodable') {
        const rec = deadErrorRecord(raw, result.error.message, result.error.code, result.atMs);
        scripts.fail(pipe, { inProgress: inProgressKey, target: keys.dead, errors }, {
          raw, entry: raw, score: floatSeconds(result.atMs), ...deadTrim(config, result.atMs), errorField: rec.field, errorValue: rec.value,
        });
        continue;
      }
      const o = result.outcome;
      if (o.kind === 'drop') {
        pipe.lrem(inProgressKey, -1, raw);
      } else if (o.kind === 'retry') {
        scripts.fail(pipe, { inProgress: inProgressKey, target: keys.retry, errors }, {
          raw, entry: o.payload, score: o.scoreSeconds, trimBelow: '', keep: 0, errorField: '', errorValue: '',
        });
      } else {
        scripts.fail(pipe, { inProgress: inProgressKey, target: keys.dead, errors }, {
          raw, entry: o.payload, score: o.scoreSeconds, ...deadTrim(config, Number(o.scoreSeconds) * 1000), errorField: '', errorValue: '',
        });
      }
    }
    this.writeStats(pipe);
    this.acks = [];
    this.others = [];
    this.processed = this.failed = this.succeeded = 0;
    return acks;
  }

  /** Sidekiq's counters (processed counts every run) and, optionally, Verk's per-queue ones. */
  private writeStats(pipe: ChainableCommander): void {
    const { keys } = this;
    const day = new Date(nowMs()).toISOString().slice(0, 10);
    if (this.processed > 0) {
      pipe.incrby(keys.stat('processed'), this.processed);
      pipe.incrby(keys.stat('processed', day), this.processed);
      pipe.expire(keys.stat('processed', day), DAILY_STAT_TTL);
    }
    if (this.failed > 0) {
      pipe.incrby(keys.stat('failed'), this.failed);
      pipe.incrby(keys.stat('failed', day), this.failed);
      pipe.expire(keys.stat('failed', day), DAILY_STAT_TTL);
    }
    if (this.config.verkQueueStats) {
      // Verk's per-queue processed counts successes only.
      if (this.succeeded > 0) pipe.incrby(keys.stat('processed', this.queue), this.succeeded);
      if (this.failed > 0) pipe.incrby(keys.stat('failed', this.queue), this.failed);
    }
  }
}
