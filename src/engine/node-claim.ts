/**
 * The claim a worker with a FIXED node id holds on that id, so that two running processes never
 * share `inprogress:<q>:<node>` lists. Sharing them is silent trouble: each process gives the
 * other's running jobs back to the queue (at its start, and in every in-progress audit), so jobs
 * run twice. With the claim, the second process refuses to start and says why.
 *
 * `kiqgate:node-claim:<node>` holds `{identity, host, pid}` with a TTL of two heartbeats, and
 * is refreshed every heartbeat. At start, a claim held by someone else is judged:
 * - same host, that pid alive (or a Worker of this very process): in use, refuse at once (were
 *   the pid reused by an unrelated process, the claim still lapses within its TTL; the error
 *   says so);
 * - same host, that pid gone (or a zombie: dead, only not yet reaped by its parent, as right
 *   after a SIGKILL): our own crashed predecessor (a restart, also in a container where both
 *   are pid 1): take the claim over at once, its in-progress jobs are ours to recover;
 * - another host: we cannot see its pid, so wait for the claim to lapse (at most its TTL): a
 *   claim that is refreshed meanwhile belongs to a live process, refuse.
 * Every change of hands is a compare and set (swap-claim-1.lua). Generated node ids need none
 * of this (they are random; Verk's node heartbeat covers them).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { KeyLayout } from '../wire/index.js';
import { Periodic } from './periodic.js';
import { processHostname } from './process-identity.js';
import { scripts } from './scripts.js';

interface Holder { identity: string; host: string; pid: number }

/** Identities of the Workers of this process that hold a claim now. */
const heldHere = new Set<string>();

/** A fixed node id is run by another live process (or another Worker of this one). */
export class NodeIdInUseError extends Error {
  override readonly name = 'NodeIdInUseError';
  /** @param message replaces the default message (a subclass's own wording). */
  constructor(readonly nodeId: string, readonly holder: string, lapseMs: number, message?: string) {
    super(message ?? `node id '${nodeId}' is in use by ${holder}: give each worker process its own node id (--node-id / KIQGATE_NODE_ID), or use generated ids (--generate-node-id); a claim whose process is gone lapses within ${Math.ceil(lapseMs / 1000)} s`);
  }
}

function parseHolder(value: string): Holder | undefined {
  try {
    const h = JSON.parse(value) as Partial<Holder>;
    return typeof h.identity === 'string' && typeof h.host === 'string' && typeof h.pid === 'number' ? h as Holder : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid runs on this host; a zombie (it exited, unreaped) does not. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // succeeds for a zombie too: its pid exists until its parent reaps it
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, only not ours to signal
  }
  return !isZombie(pid);
}

/**
 * Linux: the state field of /proc/<pid>/stat is `Z` for a process that has exited but whose
 * parent has not reaped it yet. Elsewhere (no /proc) a process is taken as no zombie.
 */
function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "<pid> (<comm>) <state> ...": comm may hold spaces and parentheses, so read after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
}

export class NodeClaim {
  private readonly key: string;
  private readonly value: string;
  private readonly ttlMs: number;
  private readonly beat: Periodic;

  constructor(
    private readonly redis: Redis,
    keys: KeyLayout,
    private readonly nodeId: string,
    private readonly identity: string,
    heartbeatMs: number,
    private readonly log: Logger,
  ) {
    this.key = keys.nodeClaim(nodeId);
    this.value = JSON.stringify({ identity, host: processHostname(), pid: process.pid } satisfies Holder);
    this.ttlMs = heartbeatMs * 2;
    this.beat = new Periodic(heartbeatMs, () => this.refresh(), (err) => this.log.warn({ err }, 'could not refresh the node id claim'));
  }

  /** Takes the claim (waiting out a stale one of another host), then keeps it fresh. */
  async start(): Promise<void> {
    let lastTtl = Infinity;
    let waitingSince: number | undefined;
    let expected = ''; // no claim; or, for a takeover, the gone predecessor's
    for (;;) {
      const current = await this.swap(expected, this.value);
      if (current === expected) break;
      expected = '';
      if (current === '') continue; // it lapsed just now: claim it
      const holder = parseHolder(current);
      if (holder && holder.host === processHostname()) {
        const live = holder.pid === process.pid ? heldHere.has(holder.identity) : pidAlive(holder.pid);
        if (live) throw new NodeIdInUseError(this.nodeId, `${holder.identity} (running on this host)`, this.ttlMs);
        this.log.info({ node: this.nodeId, previous: holder.identity }, 'taking over the node id from a process that is gone');
        expected = current;
        continue;
      }
      // Another host's claim: it lapses unless that process is alive and refreshes it.
      const ttl = await this.redis.pttl(this.key);
      if (ttl > lastTtl) throw new NodeIdInUseError(this.nodeId, `${holder?.identity ?? 'another process'} (its claim was refreshed while we waited)`, this.ttlMs);
      if (waitingSince === undefined) {
        waitingSince = Date.now();
        this.log.warn({ node: this.nodeId, holder: holder?.identity, ttlMs: ttl }, 'node id claimed by a process on another host: waiting for its claim to lapse');
      }
      if (Date.now() - waitingSince > this.ttlMs * 2) throw new NodeIdInUseError(this.nodeId, holder?.identity ?? 'another process', this.ttlMs);
      lastTtl = ttl;
      await sleep(Math.max(10, Math.min(ttl, this.ttlMs / 4)));
    }
    heldHere.add(this.identity);
    await this.beat.start();
  }

  /** Releases the claim (only if it is still ours). */
  async stop(): Promise<void> {
    await this.beat.stop();
    heldHere.delete(this.identity);
    await this.swap(this.value, '');
  }

  /** One compare-and-set; resolves to the claim found ('' = none), equal to `expected` when swapped. */
  private async swap(expected: string, next: string): Promise<string> {
    return String(await scripts.swapClaim(this.redis, this.key, { expected, next, ttlMs: this.ttlMs }));
  }

  private async refresh(): Promise<void> {
    let found = await this.swap(this.value, this.value);
    // Ours lapsed (a long outage, a Redis restart without persistence): take it back if free.
    if (found === '') found = (await this.swap('', this.value)) || this.value;
    if (found === this.value) return;
    this.log.error({ node: this.nodeId, holder: found }, 'node id claimed by another process while ours had lapsed: both may give back each other\'s running jobs; stop one of them');
  }
}
