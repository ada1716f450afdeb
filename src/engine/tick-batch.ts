/**
 * The writes of one runner tick, sent together: acks, failure entries, dead entries for
 * undecodable payloads, and the stat counters. Acks and processed counts ride in the next
 * ack-and-fetch call; failure writes (rare) are queued on a pipeline before that call.
 *
 * This is where throughput comes from: one round trip per tick instead of one per job. Each
 * job's write is still atomic on its own (a LREM; or the fail script, which moves the job from
 * in-progress to retry/dead in one step), and a job is only acked after it finished.
 */
import type { ChainableCommander } from 'ioredis';
import {
  type DeadLimits, type FailureOutcome, type KeyLayout, deadLimitsFor, dialectFor, floatSeconds, nowMs, undecodableEntry,
} from '../wire/index.js';
import type { WorkerConfig } from './config.js';
import type { JobResult } from './job-runner.js';
import { scripts } from './scripts.js';

/** Sidekiq's daily stat keys live for 5 years. */
export const DAILY_STAT_TTL = 157_680_000;

/**
 * The dead-set trim arguments: entries older than `now - timeout`, and beyond the newest N.
 * `dialect` is the limits of the peer whose entry goes to dead (the configured peer, which
 * wrote the entry, for a failed job and for bytes that could not be read); each limit the user
 * configured (deadMaxJobs, deadTimeoutSeconds) replaces the dialect's.
 */
export function deadTrim(config: WorkerConfig, dialect: DeadLimits, atMs: number): { trimBelow: string; keep: number } {
  const timeoutSeconds = config.deadTimeoutSeconds ?? dialect.timeoutSeconds;
  return { trimBelow: floatSeconds(atMs - timeoutSeconds * 1000), keep: config.deadMaxJobs ?? dialect.maxJobs };
}

/** The results that write something (a job given back at shutdown writes nothing). */
export type WrittenResult = Exclude<JobResult, { kind: 'given-back' }>;

/** What the next ack-and-fetch call carries: the acks and the processed counts of the tick. */
export interface TickAcks {
  acks: Buffer[];
  /** Jobs run since the last tick (Sidekiq's processed counts failures too). */
  processed: number;
  /** Jobs that succeeded (Verk's per-queue processed count); 0 when Verk stats are off. */
  succeeded: number;
}

export class TickBatch {
  private acks: Buffer[] = [];
  private others: Array<{ raw: Buffer; result: Exclude<WrittenResult, { kind: 'ack' }> }> = [];
  private processed = 0;
  private failed = 0;
  private succeeded = 0;
  private day = '';
  private dayEndsAtMs = 0;

  constructor(
    private readonly keys: KeyLayout,
    private readonly config: WorkerConfig,
    private readonly queue: string,
    private readonly inProgressKey: string,
    /** The worker's registry id, when its consumer counts failures per worker (Resque's `stat:failed:<id>`). */
    private readonly workerId?: string,
  ) {}

  get size(): number {
    return this.acks.length + this.others.length;
  }

  /** True when some write needs a pipeline of its own commands (a failure), not only the ack call. */
  get hasFailures(): boolean {
    return this.others.length > 0;
  }

  add(raw: Buffer, result: WrittenResult): void {
    this.processed++;
    if (result.kind === 'ack') {
      this.succeeded++;
      this.acks.push(raw);
    } else if (result.kind === 'replaced') {
      // ActiveJob hook: retry_on's run counts as processed (the wrapper returned), not failed.
      this.succeeded++;
      this.others.push({ raw, result });
    } else {
      this.failed++;
      this.others.push({ raw, result });
    }
  }

  /** Sidekiq's daily stat key suffix (UTC date), recomputed only when the day changes. */
  today(): string {
    const now = nowMs();
    if (now >= this.dayEndsAtMs || now < this.dayEndsAtMs - 86_400_000) {
      this.day = new Date(now).toISOString().slice(0, 10);
      this.dayEndsAtMs = Date.parse(`${this.day}T00:00:00.000Z`) + 86_400_000;
    }
    return this.day;
  }

  /**
   * Queues the failure writes (and the failed counters) on `pipe`; call only when
   * {@link hasFailures}. The acks and processed counts stay for {@link takeAcks}.
   */
  writeFailures(pipe: ChainableCommander): void {
    const { keys, config, inProgressKey } = this;
    const consumer = dialectFor(config.peer);
    for (const { raw, result } of this.others) {
      if (result.kind === 'undecodable' || result.kind === 'dead-raw') {
        // Both keep the exact bytes in a wrapper the peer's tools read: a payload that could not
        // be decoded, or a job whose failure could not be recorded.
        const info = result.kind === 'undecodable'
          ? { code: result.error.code, message: result.error.message, field: result.error.field }
          : { code: 'failure_path' as const, message: `${result.errorClass}: ${result.message}` };
        if (consumer.unreadable) {
          // A runtime that keeps such bytes elsewhere than a dead set (Resque: its failed list).
          const policy = { defaultMaxRetries: config.maxRetries, consumer: config.peer, ...(this.workerId === undefined ? {} : { worker: this.workerId }) };
          this.writeOutcome(pipe, raw, consumer.unreadable(raw, info, { fetchedQueue: this.queue, nowMs: result.atMs, policy }));
          continue;
        }
        // src/wire/undecodable.ts: the Kiqgate::UndecodablePayload dead entry.
        const dead = undecodableEntry(raw, { ...info, queue: this.queue, from: `queue:${this.queue}` }, result.atMs, config.peer);
        scripts.fail(pipe, { inProgress: inProgressKey, target: keys.dead }, {
          raw, entry: dead.payload, score: dead.scoreSeconds, ...deadTrim(config, deadLimitsFor(config.peer), result.atMs),
        });
        continue;
      }
      if (result.kind === 'replaced') {
        // ActiveJob hook: retry_on's new job enters schedule as this one leaves in-progress.
        scripts.fail(pipe, { inProgress: inProgressKey, target: keys.schedule }, {
          raw, entry: result.entry, score: result.scoreSeconds, trimBelow: '', keep: 0,
        });
        continue;
      }
      this.writeOutcome(pipe, raw, result.outcome);
    }
    this.others = [];
    if (this.failed > 0) {
      const day = this.today();
      pipe.incrby(keys.stat('failed'), this.failed);
      pipe.incrby(keys.stat('failed', day), this.failed);
      pipe.expire(keys.stat('failed', day), DAILY_STAT_TTL);
      // Verk's per-queue failed count.
      if (config.verkQueueStats) pipe.incrby(keys.stat('failed', this.queue), this.failed);
      this.failed = 0;
    }
  }

  /** Queues the write of one failure outcome (the job leaves in-progress in the same step). */
  private writeOutcome(pipe: ChainableCommander, raw: Buffer, o: FailureOutcome): void {
    const { keys, config, inProgressKey } = this;
    if (o.kind === 'drop') {
      pipe.lrem(inProgressKey, -1, raw);
    } else if (o.kind === 'retry') {
      scripts.fail(pipe, { inProgress: inProgressKey, target: keys.retry }, {
        raw, entry: o.payload, score: o.scoreSeconds, trimBelow: '', keep: 0,
      });
    } else if (o.kind === 'dead') {
      scripts.fail(pipe, { inProgress: inProgressKey, target: keys.dead }, {
        raw, entry: o.payload, score: o.scoreSeconds, ...deadTrim(config, o.limits, Number(o.scoreSeconds) * 1000),
      });
    } else {
      // Resque's failure list: RPUSH failed, INCRBY stat:failed and the worker's own counter
      // (list-fail-4.lua), so this failure is not counted again with the sorted-set ones.
      if (this.workerId === undefined) throw new Error('a failed-list failure needs the worker\'s registry id (its per-worker failed counter)');
      scripts.listFail(pipe, {
        inProgress: inProgressKey, failed: keys.key('failed'), failedCount: keys.stat('failed'), workerFailedCount: keys.stat('failed', this.workerId),
      }, { raw, entry: o.payload });
      this.failed--;
    }
  }

  /** Empties the acks and processed counts, for the next ack-and-fetch call. */
  takeAcks(): TickAcks {
    const out: TickAcks = { acks: this.acks, processed: this.processed, succeeded: this.config.verkQueueStats ? this.succeeded : 0 };
    if (this.acks.length > 0) this.acks = [];
    this.processed = this.succeeded = 0;
    return out;
  }
}
