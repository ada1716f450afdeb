/**
 * The scheduler (Sidekiq's Scheduled::Poller, Verk's ScheduleManager): moves due jobs from
 * `schedule` and `retry` to their queues.
 *
 * Guarantees:
 * - "now" is Redis `TIME`, so nodes with skewed clocks agree on what is due;
 * - payloads are never decoded in Lua: the new bytes (enqueued_at updated, every other byte
 *   kept) are computed here with `promotedPayload`, and promote-3.lua pushes them only if it
 *   removed the old member, so two schedulers racing over one set never duplicate a job;
 * - a member that cannot be decoded goes to `dead`, wrapped with its exact bytes in a job hash
 *   every peer's tools can read (wire/undecodable.ts, bury-2.lua), instead of staying at the head
 *   of the set forever or being lost;
 * - polls are jittered around the average interval (U[0.5·avg, 1.5·avg), as Sidekiq with fewer
 *   than 10 processes), and a full page of due jobs is followed by another poll at once.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type KeyLayout, PEER_TRAITS, WireError, deadLimitsFor, decodeJob, floatSeconds, promotedPayload, undecodableEntry } from '../wire/index.js';
import type { WorkerConfig } from './config.js';
import { scripts } from './scripts.js';
import { deadTrim } from './tick-batch.js';

/** Members read per poll page. */
const PAGE = 100;

export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;
  private stopped = true;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyLayout,
    private readonly config: WorkerConfig,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.arm(Math.random() * this.config.pollIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.current;
  }

  /** Promotes everything due in `retry` and `schedule` now; resolves to the number moved. */
  async pollOnce(): Promise<number> {
    let moved = 0;
    for (const set of [this.keys.retry, this.keys.schedule]) moved += await this.promoteDue(set);
    return moved;
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.current = this.pollOnce()
        .catch((err: unknown) => { this.logger.error({ err }, 'scheduler poll failed; retrying at the next interval'); })
        .finally(() => {
          this.current = undefined;
          const avg = this.config.pollIntervalMs;
          this.arm(avg * (0.5 + Math.random()));
        });
    }, ms);
  }

  private async redisNowMs(): Promise<number> {
    const [sec, usec] = (await this.redis.time()) as unknown as [string | number, string | number];
    return Number(sec) * 1000 + Number(usec) / 1000;
  }

  private async promoteDue(setKey: string): Promise<number> {
    let moved = 0;
    for (;;) {
      const now = await this.redisNowMs();
      const members = (await this.redis.callBuffer('ZRANGE', setKey, '-inf', floatSeconds(now), 'BYSCORE', 'LIMIT', 0, PAGE)) as Buffer[];
      if (members.length === 0) break;
      const pipe = this.redis.pipeline();
      for (const member of members) {
        try {
          const job = decodeJob(member, { maxBytes: this.config.maxPayloadBytes });
          const queue = job.queue ?? 'default';
          scripts.promote(pipe, { set: setKey, queue: this.keys.queue(queue), queues: this.keys.queues }, {
            member, payload: promotedPayload(job, now), queueName: PEER_TRAITS[job.dialect].addsToQueuesSet ? queue : '',
          });
        } catch (err) {
          const e = err instanceof WireError ? err : new WireError('invalid_json', String(err));
          // Its queue cannot be read from it: an operator's Retry sends the entry to `default`.
          const dead = undecodableEntry(member, {
            code: e.code, message: e.message, field: e.field, queue: 'default', from: setKey === this.keys.retry ? 'retry' : 'schedule',
          }, now, this.config.peer);
          this.logger.error({ set: setKey, code: e.code, err: e.message, bytes: member.length, jid: dead.jid }, 'undecodable member: moved to dead, exact bytes in raw_base64');
          scripts.bury(pipe, { set: setKey, dead: this.keys.dead }, {
            member, entry: dead.payload, score: dead.scoreSeconds, ...deadTrim(this.config, deadLimitsFor(this.config.peer), now),
          });
        }
      }
      const results = (await pipe.exec()) ?? [];
      for (const [err, ok] of results) {
        if (err) throw err;
        if (Number(ok) === 1) moved++;
      }
      if (members.length < PAGE) break;
    }
    return moved;
  }
}
