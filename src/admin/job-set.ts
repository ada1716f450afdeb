/**
 * `schedule`, `retry` and `dead` as Sidekiq::JobSet (and Verk's RetrySet/DeadSet, Exq.Api) let
 * an operator list and act on them: retry (to its queue now), delete, kill (to dead).
 *
 * Every action names the exact member bytes and is a compare-and-move: ZREM, and only if that
 * removed the member, the push (promote-3.lua) or the ZADD to dead (bury-2.lua) in the same
 * script. Two operators (or an operator and the scheduler) acting on one entry never duplicate
 * it. The bytes pushed are computed here, by the rules of the dialect that wrote the entry, every
 * byte not changed on purpose kept.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { scripts } from '../engine/scripts.js';
import {
  type AdminSetName, type Dialect, type KeyLayout, PEER_TRAITS, dialectFor, floatSeconds, promotedPayload,
} from '../wire/index.js';
import { BATCH, type BulkResult, type ProgressFn, addResult, countReplies, emptyResult, globEscape } from './bulk.js';
import { type EntryFilter, type JobEntry, matches, readEntries } from './entry.js';
import { AdminError } from './errors.js';
import { redisNowMs } from './redis-time.js';

/** What can be done to an entry. */
export type SetAction = 'retry' | 'delete' | 'kill';

export class JobSet {
  constructor(
    private readonly redis: Redis,
    readonly name: AdminSetName,
    private readonly keys: KeyLayout,
    /** The layout dialect: its dead score and limits apply to a kill. */
    private readonly layout: Dialect,
  ) {}

  /** The set's key. */
  get key(): string {
    return this.name === 'scheduled' ? this.keys.schedule : this.name === 'retries' ? this.keys.retry : this.keys.dead;
  }

  async size(): Promise<number> {
    return this.redis.zcard(this.key);
  }

  /** Up to `limit` entries passing `filter`, newest (highest score) first, as Sidekiq's `each`. */
  async list(filter: EntryFilter = {}, limit = 100): Promise<JobEntry[]> {
    const out: JobEntry[] = [];
    for (let start = 0; out.length < limit; start += BATCH) {
      const reply = (await this.redis.callBuffer('ZREVRANGE', this.key, start, start + BATCH - 1, 'WITHSCORES')) as Buffer[];
      for (const e of readEntries(this.name, reply)) if (matches(e, filter) && out.length < limit) out.push(e);
      if (reply.length < BATCH * 2) break;
    }
    return out;
  }

  /** Every entry whose jid is `jid` (ZSCAN MATCH, as Sidekiq's find_job, then an exact comparison). */
  async find(jid: string): Promise<JobEntry[]> {
    const out: JobEntry[] = [];
    await this.scan(`*${globEscape(jid)}*`, (entries) => { for (const e of entries) if (e.jid === jid) out.push(e); });
    return out;
  }

  /**
   * Acts on every entry with this jid; an AdminError `not_found` when there is none. (Jids are
   * unique in practice; a duplicated one is acted on in each of its entries.)
   */
  async act(action: SetAction, jid: string): Promise<BulkResult> {
    this.check(action);
    const found = await this.find(jid);
    if (found.length === 0) throw new AdminError('not_found', `no entry with jid ${JSON.stringify(jid)} in ${this.name} (${this.key})`, 'jid');
    return this.apply(action, found, await redisNowMs(this.redis));
  }

  /** Acts on every entry passing `filter`, in batches; `onProgress` after each. */
  async actAll(action: SetAction, filter: EntryFilter = {}, onProgress?: ProgressFn): Promise<BulkResult> {
    this.check(action);
    const total = await this.size();
    const result = emptyResult();
    let seen = 0;
    await this.scan('*', async (entries) => {
      seen += entries.length;
      const chosen = entries.filter((e) => matches(e, filter));
      if (chosen.length > 0) addResult(result, await this.apply(action, chosen, await redisNowMs(this.redis)));
      onProgress?.({ done: Math.min(seen, total), total });
    });
    onProgress?.({ done: total, total });
    return result;
  }

  private check(action: SetAction): void {
    if (action === 'kill' && this.name === 'dead') throw new AdminError('unsupported', 'kill moves an entry to dead; it is in dead already', 'action');
  }

  /**
   * ZSCAN pages (Buffer members, exact bytes): an entry present for the whole scan is seen at
   * least once, entries moved meanwhile do not disturb it. A repeat is harmless: its second
   * compare-and-move finds nothing (counted as gone).
   */
  private async scan(match: string, each: (entries: JobEntry[]) => void | Promise<void>): Promise<void> {
    let cursor = '0';
    do {
      const [next, flat] = (await this.redis.zscanBuffer(this.key, cursor, 'MATCH', match, 'COUNT', BATCH)) as unknown as [Buffer, Buffer[]];
      cursor = next.toString();
      if (flat.length > 0) await each(readEntries(this.name, flat));
    } while (cursor !== '0');
  }

  /** One pipeline of compare-and-move calls for `entries`, at `nowMs`. */
  private async apply(action: SetAction, entries: JobEntry[], nowMs: number): Promise<BulkResult> {
    const result = { ...emptyResult(), matched: entries.length };
    const pipe = this.redis.pipeline();
    for (const e of entries) {
      if (action === 'delete') pipe.zrem(this.key, e.raw);
      else if (action === 'kill') this.kill(pipe, e, nowMs);
      else if (!this.retry(pipe, e, nowMs)) result.skipped++;
    }
    if (result.skipped < entries.length) countReplies(await pipe.exec(), result);
    return result;
  }

  /** Queues the move of `e` to its queue now; false when it cannot be read (its queue is unknown). */
  private retry(pipe: ChainableCommander, e: JobEntry, nowMs: number): boolean {
    const job = e.job;
    if (!job) return false;
    // A scheduled job goes as the poller would push it (Sidekiq's add_to_queue); a retry or dead
    // entry as its writer's API retries it (Sidekiq: retry_count − 1, "manual retries should not count").
    const payload = this.name === 'scheduled' ? promotedPayload(job, nowMs) : dialectFor(job.dialect).admin.retryNowPayload(job, nowMs);
    const queue = job.queue ?? 'default';
    scripts.promote(pipe, { set: this.key, queue: this.keys.queue(queue), queues: this.keys.queues }, {
      member: e.raw, payload, queueName: PEER_TRAITS[job.dialect].addsToQueuesSet ? queue : '',
    });
    return true;
  }

  /** Queues the move of `e`, bytes unchanged, to dead at `nowMs`, trimmed by the layout's limits. */
  private kill(pipe: ChainableCommander, e: JobEntry, nowMs: number): void {
    const { maxJobs, timeoutSeconds } = this.layout.deadLimits;
    scripts.bury(pipe, { set: this.key, dead: this.keys.dead }, {
      member: e.raw, entry: e.raw, score: this.layout.admin.deadScore(nowMs),
      trimBelow: floatSeconds(nowMs - timeoutSeconds * 1000), keep: maxJobs,
    });
  }
}
