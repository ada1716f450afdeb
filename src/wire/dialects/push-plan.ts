/**
 * Building blocks of the dialects' push plans: jobs grouped by queue (in first-seen order) and
 * the schedule ZADD. A plan is a list of commands; the client sends it as it is.
 */
import type { KeyLayout } from '../keys.js';
import type { ListEnd, PlannedJob, PushCommand } from './dialect.js';

/** Immediate jobs' payloads by queue, queues in the order they first appear. */
export function byQueue(jobs: readonly PlannedJob[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const j of jobs) {
    if (j.runAtMs !== undefined) continue;
    const list = out.get(j.queue);
    if (list) list.push(j.payload);
    else out.set(j.queue, [j.payload]);
  }
  return out;
}

/** The list push of one queue's payloads at the dialect's producing end. */
export function listPush(keys: KeyLayout, queue: string, payloads: readonly string[], end: ListEnd): PushCommand {
  return { name: end === 'head' ? 'lpush' : 'rpush', key: keys.queue(queue), args: payloads };
}

/** One `ZADD schedule score member…` for the scheduled jobs, or none; `score` writes a run time. */
export function scheduleAdd(jobs: readonly PlannedJob[], keys: KeyLayout, score: (ms: number) => string): PushCommand[] {
  const args: string[] = [];
  for (const j of jobs) if (j.runAtMs !== undefined) args.push(score(j.runAtMs), j.payload);
  return args.length === 0 ? [] : [{ name: 'zadd', key: keys.schedule, args }];
}

/**
 * Sidekiq ≤ 7's and Exq's immediate push: per queue, `SADD queues <q>` then its list push
 * (`addToQueuesSet` false: the list push alone, as Verk's).
 */
export function perQueuePush(jobs: readonly PlannedJob[], keys: KeyLayout, end: ListEnd, addToQueuesSet: boolean): PushCommand[] {
  const out: PushCommand[] = [];
  for (const [q, payloads] of byQueue(jobs)) {
    if (addToQueuesSet) out.push({ name: 'sadd', key: keys.queues, args: [q] });
    out.push(listPush(keys, q, payloads, end));
  }
  return out;
}
