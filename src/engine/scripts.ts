/**
 * The engine's Lua scripts (`lua/*.lua`) and typed calls to them.
 *
 * On a connection, a call is EVALSHA, or EVAL with the script body where Redis may not have it
 * (the first call on each socket, and after a NOSCRIPT answer), so a `SCRIPT FLUSH` or a
 * restarted Redis is survived without a reload step; the command is emptied once settled
 * (support/released-command.ts says why a worker needs that).
 * On a pipeline, a call goes through the script registered on the connection with ioredis
 * `defineCommand` (`defineScripts`), which does the same fallback for each call itself.
 * Replies are always Buffers: a payload that is not valid UTF-8 is never turned into U+FFFD
 * and can still be named exactly by LREM/ZREM.
 *
 * A fragment several scripts share (the dead-set trim) is written once in `lua/include/` and
 * stands in a script as a line `--@include <file>`, replaced by the file's text when the
 * scripts are loaded ({@link readScript}); the script's sha is over the expanded text, which is
 * what Redis runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChainableCommander, Command, Redis } from 'ioredis';
import { sendReleasing } from '../support/released-command.js';
import type { ListEnd } from '../wire/index.js';

type Arg = string | Buffer | number;

/** Script name → [file, number of keys]. */
const SCRIPTS = {
  kgAckFetch: ['ack-and-fetch-5.lua', 5],
  kgRequeue: ['requeue-2.lua', 2],
  kgGiveBack: ['give-back-2.lua', 2],
  kgFail: ['fail-2.lua', 2],
  kgPromote: ['promote-3.lua', 3],
  kgBury: ['bury-2.lua', 2],
  kgSwapClaim: ['swap-claim-1.lua', 1],
  kgListFail: ['list-fail-4.lua', 4],
  kgRequeueFailure: ['requeue-failure-3.lua', 3],
} as const;

/** A queue's consuming end as the scripts name it: 'L' the head (Resque), 'R' the tail. */
const endArg = (end: ListEnd = 'tail') => (end === 'head' ? 'L' : 'R');

export type ScriptName = keyof typeof SCRIPTS;

interface Script { lua: string; sha: string; numKeys: number }

let loaded: Map<ScriptName, Script> | undefined;

/** Finds `lua/` from the source tree (src/engine) or the bundle (dist). */
function luaDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, '..', '..', 'lua'), join(here, '..', 'lua')]) {
    if (existsSync(join(candidate, 'ack-and-fetch-5.lua'))) return candidate;
  }
  throw new Error(`kiqgate: cannot find the lua/ scripts directory near ${here}`);
}

/** A line standing for a file of `lua/include/`: `--@include trim-dead.lua`. */
const INCLUDE_LINE = /^--@include[ \t]+(\S*)[ \t]*$/gm;

/**
 * The text of script `file` of `dir`, each `--@include <name>` line replaced by the text of
 * `dir/include/<name>`. An include that cannot be read, a name that is not a plain `.lua` file
 * name, or an include line left over (an include inside an included file) is an error naming
 * the script: a script is never loaded with a hole in it.
 */
export function readScript(dir: string, file: string): string {
  const text = readFileSync(join(dir, file), 'utf8');
  const expanded = text.replace(INCLUDE_LINE, (_line, name: string) => {
    if (!/^[\w.-]+\.lua$/.test(name)) throw new Error(`kiqgate: ${file}: bad include '${name}' (expected a .lua file name of lua/include/)`);
    const path = join(dir, 'include', name);
    try {
      return readFileSync(path, 'utf8').replace(/\n$/, '');
    } catch (err) {
      throw new Error(`kiqgate: ${file} includes ${name}, which cannot be read (${path}): ${(err as Error).message}`);
    }
  });
  const left = /^[ \t]*--@include.*$/m.exec(expanded);
  if (left) throw new Error(`kiqgate: ${file}: unresolved include line after expansion: ${left[0].trim()}`);
  return expanded;
}

/** The expanded text of a script, as sent to Redis. */
export function scriptSource(name: ScriptName): string {
  return loadScripts().get(name)!.lua;
}

function loadScripts(): Map<ScriptName, Script> {
  if (loaded) return loaded;
  const dir = luaDir();
  loaded = new Map((Object.keys(SCRIPTS) as ScriptName[]).map((n) => {
    const lua = readScript(dir, SCRIPTS[n][0]);
    return [n, { lua, sha: createHash('sha1').update(lua).digest('hex'), numKeys: SCRIPTS[n][1] }];
  }));
  return loaded;
}

const defined = new WeakSet<Redis>();

/** Registers every script on `redis` (once per connection object). */
export function defineScripts(redis: Redis): void {
  if (defined.has(redis)) return;
  for (const [name, { lua, numKeys }] of loadScripts()) {
    redis.defineCommand(name, { numberOfKeys: numKeys, lua });
  }
  defined.add(redis);
}

type Target = Redis | ChainableCommander;

/** Per socket of a connection (ioredis opens a new one at each reconnect): the scripts sent there with EVAL. */
const sentWithBody = new WeakMap<object, Set<ScriptName>>();

/** Whether `name` went out with its body on `socket` already; from now on it has. */
function sentBefore(socket: object, name: ScriptName): boolean {
  let sent = sentWithBody.get(socket);
  if (!sent) sentWithBody.set(socket, (sent = new Set()));
  if (sent.has(name)) return true;
  sent.add(name);
  return false;
}

/**
 * A script call on a connection, each command emptied once settled (support/released-command.ts
 * says why a worker needs that). As ioredis's own script commands do, the first call of a script
 * on a socket is EVAL with the body (a new socket may be a restarted or failed-over Redis); later
 * calls are EVALSHA, sent again as EVAL if Redis answers NOSCRIPT (after a `SCRIPT FLUSH`).
 */
async function evalScript(redis: Redis, name: ScriptName, args: Arg[]): Promise<unknown> {
  const { lua, sha, numKeys } = loadScripts().get(name)!;
  const send = (command: 'eval' | 'evalsha', script: string) =>
    sendReleasing(redis, new Command(command, [script, numKeys, ...args], { replyEncoding: null }));
  // Before the connection is ready the command waits in ioredis's queue for a socket not known yet.
  if (redis.status !== 'ready' || !sentBefore(redis.stream, name)) return send('eval', lua);
  try {
    return await send('evalsha', sha);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return send('eval', lua);
  }
}

function call(target: Target, name: ScriptName, args: Arg[]): unknown {
  if (target instanceof Redis) return evalScript(target, name, args);
  const fn = (target as unknown as Record<string, (...a: Arg[]) => unknown>)[`${name}Buffer`];
  if (typeof fn !== 'function') throw new Error(`kiqgate: script ${name} is not defined on this connection (call defineScripts first)`);
  return fn.apply(target, args);
}

/**
 * Typed script calls. On a Redis instance they return a Promise of the reply; on a pipeline
 * they queue the call (the reply comes from `exec()`).
 */
export const scripts = {
  /**
   * Acks `a.acks` (exact bytes), adds the processed counts, and fetches up to `a.max` jobs from
   * the queue's consuming end (`a.end`, default the tail; Resque's is the head). `a.dayTtl` 0:
   * `processedDay` gets no TTL.
   */
  ackAndFetch(t: Target, keys: { queue: string; inProgress: string; processed: string; processedDay: string; processedQueue: string },
    a: { max: number; processed: number; succeeded: number; dayTtl: number; acks: Buffer[]; end?: ListEnd }) {
    const args: Arg[] = [keys.queue, keys.inProgress, keys.processed, keys.processedDay, keys.processedQueue, a.max, a.processed, a.succeeded, a.dayTtl, endArg(a.end)];
    for (let i = 0; i < a.acks.length; i++) args.push(a.acks[i]!);
    return call(t, 'kgAckFetch', args) as Promise<Buffer[]>;
  },
  requeue(t: Target, inProgressKey: string, queueKey: string, batch: number, end?: ListEnd) {
    return call(t, 'kgRequeue', [inProgressKey, queueKey, batch, endArg(end)]) as Promise<[number, number]>;
  },
  /** Compare and move: each member still in `inProgressKey` goes back to the queue's consuming end. */
  giveBack(t: Target, inProgressKey: string, queueKey: string, members: Buffer[], end?: ListEnd) {
    return call(t, 'kgGiveBack', [inProgressKey, queueKey, endArg(end), ...members]) as Promise<number>;
  },
  /** A `failed-list` outcome: `a.raw` leaves in-progress, `a.entry` is RPUSHed to `failed`, both failed counters +1. */
  listFail(t: Target, keys: { inProgress: string; failed: string; failedCount: string; workerFailedCount: string }, a: { raw: Buffer; entry: string }) {
    return call(t, 'kgListFail', [keys.inProgress, keys.failed, keys.failedCount, keys.workerFailedCount, a.raw, a.entry]) as Promise<number>;
  },
  fail(t: Target, keys: { inProgress: string; target: string }, a: { raw: Buffer; entry: Buffer | string; score: string; trimBelow: string; keep: number }) {
    return call(t, 'kgFail', [keys.inProgress, keys.target, a.raw, a.entry, a.score, a.trimBelow, a.keep]) as Promise<number>;
  },
  promote(t: Target, keys: { set: string; queue: string; queues: string }, a: { member: Buffer; payload: string; queueName: string }) {
    return call(t, 'kgPromote', [keys.set, keys.queue, keys.queues, a.member, a.payload, a.queueName]) as Promise<number>;
  },
  /**
   * Compare and move: `a.member` leaves `keys.set` and `a.entry` enters dead (the
   * undecodable-payload entry; for an operator's kill, the member's own bytes).
   */
  bury(t: Target, keys: { set: string; dead: string }, a: { member: Buffer; entry: string | Buffer; score: string; trimBelow: string; keep: number }) {
    return call(t, 'kgBury', [keys.set, keys.dead, a.member, a.entry, a.score, a.trimBelow, a.keep]) as Promise<number>;
  },
  /** Compare and move: the failure-list entry `a.entry` (exact bytes) becomes `a.kept` and `a.payload` is RPUSHed to its queue. */
  requeueFailure(t: Target, keys: { failed: string; queue: string; queues: string }, a: { entry: Buffer; kept: string; payload: string; queueName: string }) {
    return call(t, 'kgRequeueFailure', [keys.failed, keys.queue, keys.queues, a.entry, a.kept, a.payload, a.queueName]) as Promise<number>;
  },
  /**
   * Compare and set a node-id claim ('' expected = none; '' next = delete). Resolves to the claim
   * found ('' = none): swapped exactly when it equals `expected`.
   */
  swapClaim(t: Target, key: string, a: { expected: string; next: string; ttlMs: number }) {
    return call(t, 'kgSwapClaim', [key, a.expected, a.next, a.ttlMs]) as Promise<Buffer>;
  },
};

/** Moves all of `inProgressKey` back to `queueKey`'s consuming end in batches; resolves to the number moved. */
export async function requeueAll(redis: Redis, inProgressKey: string, queueKey: string, batch = 1000, end?: ListEnd): Promise<number> {
  let total = 0;
  for (;;) {
    const [remaining, moved] = await scripts.requeue(redis, inProgressKey, queueKey, batch, end);
    total += Number(moved);
    if (Number(remaining) === 0 || Number(moved) === 0) return total;
  }
}
