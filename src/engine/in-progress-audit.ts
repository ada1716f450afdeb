/**
 * The in-progress audit of one queue runner: finds jobs stranded in this (live) node's
 * `inprogress:<q>:<node>` list and gives them back to the queue.
 *
 * Why they strand: a fetch (the ack-and-fetch script or a BLMOVE) can run in Redis while its
 * reply is lost with the connection. ioredis then resends it after reconnecting (the same
 * pending promise, which settles with the second batch), or the call fails and the runner
 * restarts its loop; either way the first batch sits in the list held by no slot, and the
 * node's heartbeat keeps peers off it until the node stops or dies.
 *
 * What we do: after a fetch error, a reconnect of either connection, and every heartbeat as a
 * safety net, the runner calls {@link InProgressAudit.reconcile} at a moment when no fetch of
 * its own is in flight. It reads the list (exact bytes) and gives back, by compare and move
 * (`give-back-2.lua`), every entry beyond the multiset of jobs the runner holds: running,
 * prefetched, and finished but not yet acked (kept here until the ack that carries them
 * settles; an ack that failed is written again before the list is read, so a finished job is
 * never run again because of this audit).
 *
 * ioredis's `autoResendUnfulfilledCommands` stays on (its default) for the worker's connections:
 * with it off, ioredis drops the commands in flight at a disconnect without settling their
 * promises (a tick or a BLMOVE would hang its runner for good), and an in-flight ack would be of
 * unknown outcome. On, a resent ack is a harmless LREM of bytes already gone, a resent fail
 * script is guarded by its LREM, and a resent fetch only strands a batch, which this audit
 * gives back.
 */
import type { ListEnd } from '../wire/index.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { scripts } from './scripts.js';

interface Finished { raw: Buffer; acked: boolean }

/** Multiset key of a payload: latin1 maps each byte to one char, so equal keys = equal bytes. */
const bytesKey = (raw: Buffer): string => raw.toString('latin1');

/** The entries of `list` beyond the multiset `held`, in list order. */
export function strandedEntries(list: Buffer[], held: Iterable<Buffer>): Buffer[] {
  const counts = new Map<string, number>();
  for (const raw of held) {
    const k = bytesKey(raw);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const extra: Buffer[] = [];
  for (const raw of list) {
    const k = bytesKey(raw);
    const n = counts.get(k) ?? 0;
    if (n > 0) counts.set(k, n - 1);
    else extra.push(raw);
  }
  return extra;
}

/** One 'ready' listener per connection, shared by every runner on it (no listener-count warnings). */
const reconnectHooks = new WeakMap<Redis, Set<() => void>>();

function onReconnect(redis: Redis, hook: () => void): () => void {
  let hooks = reconnectHooks.get(redis);
  if (!hooks) {
    const set = new Set<() => void>();
    hooks = set;
    reconnectHooks.set(redis, set);
    redis.on('ready', () => { for (const h of set) h(); });
  }
  hooks.add(hook);
  return () => { hooks.delete(hook); };
}

const GIVE_BACK_BATCH = 500;

export class InProgressAudit {
  /** Set when a reconcile should run at the runner's next fetch-free moment. */
  due = true;
  /** Finished since the last tick: their acks ride on the next one. */
  private unsent: Finished[] = [];
  /** Carried by ticks whose reply has not come back yet. */
  private readonly carried = new Set<Finished[]>();
  /** Acks of a tick that failed: maybe written, maybe not; written again before the next read. */
  private unsureAcks: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;
  private unhook: Array<() => void> = [];

  constructor(
    private readonly redis: Redis,
    private readonly inProgressKey: string,
    private readonly queueKey: string,
    private readonly log: Logger,
    private readonly wake: () => void,
    /** The queue's consuming end, where strays go back (Resque: the head). */
    private readonly end: ListEnd = 'tail',
  ) {}

  /** Audits every `intervalMs` and after each reconnect of `connections`. */
  start(intervalMs: number, connections: Redis[]): void {
    this.timer = setInterval(() => this.markDue(), intervalMs);
    this.timer.unref();
    this.unhook = connections.map((c) => onReconnect(c, () => this.markDue()));
  }

  stop(): void {
    clearInterval(this.timer);
    for (const off of this.unhook) off();
    this.unhook = [];
  }

  markDue(): void {
    this.due = true;
    this.wake();
  }

  /** A job finished (its ack or failure write is in the tick batch now). */
  finished(raw: Buffer, acked: boolean): void {
    this.unsent.push({ raw, acked });
  }

  /**
   * The tick `call` (just built, so it took every write of the batch) carries the jobs finished
   * so far: they count as held until it settles. If it fails, its acks are kept to be written
   * again; its failure writes are not (if one was lost, the job is given back and runs again).
   */
  carriedBy<T>(call: Promise<T>): Promise<T> {
    const jobs = this.unsent;
    this.unsent = [];
    this.carried.add(jobs);
    return call.then(
      (reply) => { this.carried.delete(jobs); return reply; },
      (err: unknown) => {
        this.carried.delete(jobs);
        for (const j of jobs) if (j.acked) this.unsureAcks.push(j.raw);
        throw err;
      },
    );
  }

  /**
   * Gives back the entries of the in-progress list that neither `holding()` (running and
   * prefetched jobs) nor this audit (finished, ack pending) accounts for. The caller must have
   * no fetch in flight: the list is read first and the held jobs counted when the reply is in
   * (a job only moves between those sets meanwhile), so only a fetch could add an unheld entry.
   */
  async reconcile(holding: () => Iterable<Buffer>): Promise<number> {
    this.due = false;
    if (this.unsureAcks.length > 0) {
      const acks = this.unsureAcks;
      const pipe = this.redis.pipeline();
      for (const raw of acks) pipe.lrem(this.inProgressKey, -1, raw);
      for (const [err] of (await pipe.exec()) ?? []) if (err) throw err;
      this.unsureAcks = this.unsureAcks.slice(acks.length);
    }
    const list = await this.redis.lrangeBuffer(this.inProgressKey, 0, -1);
    const extra = strandedEntries(list, this.held(holding()));
    let moved = 0;
    for (let i = 0; i < extra.length; i += GIVE_BACK_BATCH) {
      moved += Number(await scripts.giveBack(this.redis, this.inProgressKey, this.queueKey, extra.slice(i, i + GIVE_BACK_BATCH), this.end));
    }
    if (moved > 0) this.log.warn({ moved, inProgress: this.inProgressKey }, 'gave back jobs stranded in this node\'s in-progress list (a fetch whose reply was lost)');
    return moved;
  }

  private *held(holding: Iterable<Buffer>): Iterable<Buffer> {
    yield* holding;
    for (const j of this.unsent) yield j.raw;
    for (const jobs of this.carried) for (const j of jobs) yield j.raw;
    yield* this.unsureAcks;
  }
}
