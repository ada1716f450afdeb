/**
 * The engine's Lua scripts (`lua/*.lua`), registered on a connection with ioredis
 * `defineCommand`, and typed calls to their Buffer variants.
 *
 * defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT, so a `SCRIPT FLUSH` or a
 * Redis restart is survived without a reload step. Every call goes through the `…Buffer`
 * variant: replies stay bytes, so a payload that is not valid UTF-8 is never turned into
 * U+FFFD and can still be named exactly by LREM/ZREM.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChainableCommander, Redis } from 'ioredis';

type Arg = string | Buffer | number;

/** Script name → [file, number of keys]. */
const SCRIPTS = {
  kgAckFetch: ['ack-and-fetch-5.lua', 5],
  kgRequeue: ['requeue-2.lua', 2],
  kgGiveBack: ['give-back-2.lua', 2],
  kgFail: ['fail-3.lua', 3],
  kgPromote: ['promote-3.lua', 3],
  kgBury: ['bury-3.lua', 3],
  kgSwapClaim: ['swap-claim-1.lua', 1],
} as const;

export type ScriptName = keyof typeof SCRIPTS;

let sources: Map<ScriptName, string> | undefined;

/** Finds `lua/` from the source tree (src/engine) or the bundle (dist). */
function luaDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, '..', '..', 'lua'), join(here, '..', 'lua')]) {
    if (existsSync(join(candidate, 'ack-and-fetch-5.lua'))) return candidate;
  }
  throw new Error(`kiqgate: cannot find the lua/ scripts directory near ${here}`);
}

function loadSources(): Map<ScriptName, string> {
  if (sources) return sources;
  const dir = luaDir();
  sources = new Map((Object.keys(SCRIPTS) as ScriptName[]).map((n) => [n, readFileSync(join(dir, SCRIPTS[n][0]), 'utf8')]));
  return sources;
}

const defined = new WeakSet<Redis>();

/** Registers every script on `redis` (once per connection object). */
export function defineScripts(redis: Redis): void {
  if (defined.has(redis)) return;
  for (const [name, lua] of loadSources()) {
    redis.defineCommand(name, { numberOfKeys: SCRIPTS[name][1], lua });
  }
  defined.add(redis);
}

type Target = Redis | ChainableCommander;

function call(target: Target, name: ScriptName, args: Arg[]): unknown {
  const fn = (target as unknown as Record<string, (...a: Arg[]) => unknown>)[`${name}Buffer`];
  if (typeof fn !== 'function') throw new Error(`kiqgate: script ${name} is not defined on this connection (call defineScripts first)`);
  return fn.apply(target, args);
}

/**
 * Typed script calls. On a Redis instance they return a Promise of the reply; on a pipeline
 * they queue the call (the reply comes from `exec()`).
 */
export const scripts = {
  /** Acks `a.acks` (exact bytes), adds the processed counts, and fetches up to `a.max` jobs. */
  ackAndFetch(t: Target, keys: { queue: string; inProgress: string; processed: string; processedDay: string; processedQueue: string },
    a: { max: number; processed: number; succeeded: number; dayTtl: number; acks: Buffer[] }) {
    const args: Arg[] = [keys.queue, keys.inProgress, keys.processed, keys.processedDay, keys.processedQueue, a.max, a.processed, a.succeeded, a.dayTtl];
    for (let i = 0; i < a.acks.length; i++) args.push(a.acks[i]!);
    return call(t, 'kgAckFetch', args) as Promise<Buffer[]>;
  },
  requeue(t: Target, inProgressKey: string, queueKey: string, batch: number) {
    return call(t, 'kgRequeue', [inProgressKey, queueKey, batch]) as Promise<[number, number]>;
  },
  /** Compare and move: each member still in `inProgressKey` goes back to the queue's consuming end. */
  giveBack(t: Target, inProgressKey: string, queueKey: string, members: Buffer[]) {
    return call(t, 'kgGiveBack', [inProgressKey, queueKey, ...members]) as Promise<number>;
  },
  fail(t: Target, keys: { inProgress: string; target: string; errors: string }, a: { raw: Buffer; entry: Buffer | string; score: string; trimBelow: string; keep: number; errorField: string; errorValue: string }) {
    return call(t, 'kgFail', [keys.inProgress, keys.target, keys.errors, a.raw, a.entry, a.score, a.trimBelow, a.keep, a.errorField, a.errorValue]) as Promise<number>;
  },
  promote(t: Target, keys: { set: string; queue: string; queues: string }, a: { member: Buffer; payload: string; queueName: string }) {
    return call(t, 'kgPromote', [keys.set, keys.queue, keys.queues, a.member, a.payload, a.queueName]) as Promise<number>;
  },
  bury(t: Target, keys: { set: string; dead: string; errors: string }, a: { member: Buffer; score: string; trimBelow: string; keep: number; errorField: string; errorValue: string }) {
    return call(t, 'kgBury', [keys.set, keys.dead, keys.errors, a.member, a.score, a.trimBelow, a.keep, a.errorField, a.errorValue]) as Promise<number>;
  },
  /**
   * Compare and set a node-id claim ('' expected = none; '' next = delete). Resolves to the claim
   * found ('' = none): swapped exactly when it equals `expected`.
   */
  swapClaim(t: Target, key: string, a: { expected: string; next: string; ttlMs: number }) {
    return call(t, 'kgSwapClaim', [key, a.expected, a.next, a.ttlMs]) as Promise<Buffer>;
  },
};

/** Moves all of `inProgressKey` back to `queueKey` in batches; resolves to the number moved. */
export async function requeueAll(redis: Redis, inProgressKey: string, queueKey: string, batch = 1000): Promise<number> {
  let total = 0;
  for (;;) {
    const [remaining, moved] = await scripts.requeue(redis, inProgressKey, queueKey, batch);
    total += Number(moved);
    if (Number(remaining) === 0 || Number(moved) === 0) return total;
  }
}
