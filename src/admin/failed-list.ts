/**
 * A failure list (Resque's `failed`), as Resque::Failure lets an operator list, requeue and
 * remove its entries. Entries have no ids of their own: each is named by its exact bytes.
 *
 * - requeue (`retry`): requeue-failure-3.lua finds the exact entry (LPOS), replaces it with
 *   itself plus `retried_at` and pushes the job, in one step (Resque keeps a requeued entry);
 * - delete: `LREM failed 1 <exact bytes>` (Resque's remove blanks the entry by index, then
 *   LREMs the blank: by bytes, a concurrent change of the list cannot make it remove another).
 */
import type { Redis } from 'ioredis';
import { scripts } from '../engine/scripts.js';
import { type FailedEntryView, type FailedListRules, type KeyLayout, WireError } from '../wire/index.js';
import { BATCH, type BulkResult, type ProgressFn, addResult, countReplies, emptyResult } from './bulk.js';
import type { EntryFilter } from './entry.js';
import { AdminError } from './errors.js';
import { redisNowMs } from './redis-time.js';

/** One entry of the list: its fields (when it can be read) and its exact bytes. */
export interface FailedEntry extends Partial<FailedEntryView> {
  readonly raw: Buffer;
  /** Its index when read (head = 0); it may have moved since. */
  readonly index: number;
  /** Set when the entry cannot be read: the reason. */
  readonly unreadable: string | undefined;
}

export type FailedAction = 'retry' | 'delete';

export class FailedList {
  readonly key: string;

  constructor(private readonly redis: Redis, private readonly keys: KeyLayout, private readonly rules: FailedListRules) {
    this.key = rules.key(keys);
  }

  async size(): Promise<number> {
    return this.redis.llen(this.key);
  }

  /** Up to `limit` entries passing `filter`, newest (the tail, where failures are RPUSHed) first. */
  async list(filter: EntryFilter = {}, limit = 100): Promise<FailedEntry[]> {
    const out: FailedEntry[] = [];
    await this.walk((entries) => {
      for (const e of entries) if (passes(e, filter) && out.length < limit) out.push(e);
      return out.length < limit;
    });
    return out;
  }

  /** Every entry whose id (its payload's jid, or the id derived from its payload) is `id`. */
  async find(id: string): Promise<FailedEntry[]> {
    const out: FailedEntry[] = [];
    await this.walk((entries) => { for (const e of entries) if (e.id === id) out.push(e); return true; });
    return out;
  }

  /** Requeues or deletes every entry with this id; an AdminError `not_found` when there is none. */
  async act(action: FailedAction, id: string): Promise<BulkResult> {
    const found = await this.find(id);
    if (found.length === 0) throw new AdminError('not_found', `no entry with id ${JSON.stringify(id)} in ${this.key}`, 'id');
    return this.apply(action, found);
  }

  /** Requeues or deletes every entry passing `filter`, in batches; `onProgress` after each. */
  async actAll(action: FailedAction, filter: EntryFilter = {}, onProgress?: ProgressFn): Promise<BulkResult> {
    const total = await this.size();
    const result = emptyResult();
    let seen = 0;
    await this.walk(async (entries) => {
      seen += entries.length;
      const chosen = entries.filter((e) => passes(e, filter));
      if (chosen.length > 0) addResult(result, await this.apply(action, chosen));
      onProgress?.({ done: Math.min(seen, total), total });
      return true;
    });
    onProgress?.({ done: total, total });
    return result;
  }

  /**
   * Pages of the list from the tail to the head, by head-based indices: a delete shifts only
   * what comes after it, and new failures are pushed at the tail, so no page is skipped.
   * `each` returns false to stop.
   */
  private async walk(each: (entries: FailedEntry[]) => boolean | Promise<boolean>): Promise<void> {
    const len = await this.size();
    for (let end = len - 1; end >= 0; end -= BATCH) {
      const start = Math.max(0, end - BATCH + 1);
      const raws = await this.redis.lrangeBuffer(this.key, start, end);
      const entries = raws.map((raw, i) => this.read(raw, start + i)).reverse();
      if (!(await each(entries))) return;
    }
  }

  private read(raw: Buffer, index: number): FailedEntry {
    try {
      return { ...this.rules.view(raw.toString('utf8')), raw, index, unreadable: undefined };
    } catch (err) {
      return { raw, index, unreadable: err instanceof Error ? err.message : String(err) };
    }
  }

  private async apply(action: FailedAction, entries: FailedEntry[]): Promise<BulkResult> {
    const result = { ...emptyResult(), matched: entries.length };
    const nowMs = await redisNowMs(this.redis);
    const pipe = this.redis.pipeline();
    for (const e of entries) {
      if (action === 'delete') {
        pipe.lrem(this.key, 1, e.raw);
        continue;
      }
      let plan: ReturnType<FailedListRules['requeue']>;
      try {
        plan = this.rules.requeue(e.raw.toString('utf8'), nowMs);
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
        result.skipped++; // no class or queue to requeue to
        continue;
      }
      scripts.requeueFailure(pipe, { failed: this.key, queue: this.keys.queue(plan.queue), queues: this.keys.queues }, {
        entry: e.raw, kept: plan.entry, payload: plan.payload, queueName: plan.queue,
      });
    }
    if (result.skipped < entries.length) countReplies(await pipe.exec(), result);
    return result;
  }
}

/** `--queue` is the queue the job failed in; `--class` its payload's class. */
function passes(e: FailedEntry, f: EntryFilter): boolean {
  if (f.queue !== undefined && e.queue !== f.queue) return false;
  if (f.className !== undefined && e.className !== f.className) return false;
  return true;
}
