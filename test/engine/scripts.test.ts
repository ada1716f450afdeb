/**
 * Script calls on a connection: EVAL first on each socket, then EVALSHA with an EVAL fallback on
 * NOSCRIPT (counted on a private redis-server, so the command stats are this test's alone),
 * replies kept as exact bytes, and each command emptied once settled (support/released-command.ts).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ScriptName, readScript, scriptSource, scripts } from '../../src/engine/scripts.js';
import { sendReleasing } from '../../src/support/released-command.js';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';

let server: RedisServerHandle;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url, { maxRetriesPerRequest: 3 });
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

/** calls and failed_calls of one command in INFO commandstats. */
async function stat(command: string): Promise<{ calls: number; failed: number }> {
  const info = await redis.info('commandstats');
  const m = new RegExp(`cmdstat_${command}:calls=(\\d+),.*?failed_calls=(\\d+)`).exec(info);
  return { calls: Number(m?.[1] ?? 0), failed: Number(m?.[2] ?? 0) };
}

const keys = { queue: 'queue:s', inProgress: 'inprogress:s:n', processed: 'stat:processed', processedDay: 'stat:processed:d', processedQueue: 'stat:processed:s' };
const fetch = (acks: Buffer[] = []) => scripts.ackAndFetch(redis, keys, { max: 10, processed: acks.length, succeeded: 0, dayTtl: 60, acks });

it('sends EVAL with the body first on a connection, then EVALSHA, and EVAL again after NOSCRIPT (SCRIPT FLUSH)', async () => {
  // Not valid UTF-8 on purpose: a decoded reply would not match the stored bytes.
  const odd = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
  await redis.lpush(keys.queue, odd, 'b'); // producers push at the head; fetch takes the tail
  await redis.config('RESETSTAT');

  const first = await fetch();
  expect(first).toEqual([odd, Buffer.from('b')]);
  expect(await stat('eval')).toEqual({ calls: 1, failed: 0 });
  expect(await stat('evalsha')).toEqual({ calls: 0, failed: 0 });

  expect(await fetch(first)).toEqual([]); // the acks, by exact bytes
  expect(await redis.llen(keys.inProgress)).toBe(0);
  expect(await redis.get(keys.processed)).toBe('2');
  expect(await stat('evalsha')).toEqual({ calls: 1, failed: 0 });

  await redis.script('FLUSH');
  await redis.lpush(keys.queue, 'c');
  expect(await fetch()).toEqual([Buffer.from('c')]);
  expect(await stat('evalsha')).toEqual({ calls: 2, failed: 1 }); // NOSCRIPT, then
  expect(await stat('eval')).toEqual({ calls: 2, failed: 0 });

  // A new socket (a reconnect, maybe to a restarted Redis) starts with EVAL again.
  redis.disconnect(true);
  await redis.ping();
  expect(await fetch()).toEqual([]);
  expect(await stat('eval')).toEqual({ calls: 3, failed: 0 });
  expect((await stat('evalsha')).failed).toBe(1);
});

it('a script error other than NOSCRIPT is not retried as EVAL', async () => {
  await redis.set('not-a-list', 'x');
  await redis.config('RESETSTAT');
  const err = await scripts.ackAndFetch(redis, { ...keys, queue: 'not-a-list' }, { max: 1, processed: 0, succeeded: 0, dayTtl: 60, acks: [] })
    .then(() => undefined, (e: unknown) => e as Error);
  expect(err?.message).toMatch(/WRONGTYPE/);
  expect((await stat('eval')).calls).toBe(0);
});

it('sendReleasing hands back the reply and leaves the settled command holding nothing', async () => {
  await redis.rpush('released', 'x', 'y');
  const command = new Command('lrange', ['released', 0, -1], { replyEncoding: null });
  const reply = await sendReleasing(redis, command);
  expect(reply).toEqual([Buffer.from('x'), Buffer.from('y')]);
  expect(command.args).toEqual([]);
  expect(await command.promise).toEqual([]); // the array the command's promise holds is emptied

  const failing = new Command('lrange', ['released', 'not-a-number', -1], { replyEncoding: null });
  await expect(sendReleasing(redis, failing)).rejects.toThrow(/not an integer/);
  expect(failing.args).toEqual([]);
});

const LUA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'lua');
const ALL: ScriptName[] = ['kgAckFetch', 'kgRequeue', 'kgGiveBack', 'kgFail', 'kgPromote', 'kgBury', 'kgSwapClaim', 'kgListFail'];
const count = (text: string, part: string): number => text.split(part).length - 1;

it('the dead trim is written once (lua/include/trim-dead.lua) and fail/bury each run it once, with no include line left', () => {
  const files = readdirSync(LUA_DIR).filter((f) => f.endsWith('.lua'));
  expect(files.filter((f) => readFileSync(join(LUA_DIR, f), 'utf8').includes('ZREMRANGEBYRANK'))).toEqual([]);
  expect(count(readFileSync(join(LUA_DIR, 'include', 'trim-dead.lua'), 'utf8'), 'ZREMRANGEBYRANK')).toBe(1);
  for (const name of ['kgFail', 'kgBury'] as const) {
    const lua = scriptSource(name);
    expect(count(lua, 'local function trim_dead('), name).toBe(1);
    expect(count(lua, "redis.call('ZREMRANGEBYSCORE'"), name).toBe(1);
    expect(count(lua, "redis.call('ZREMRANGEBYRANK'"), name).toBe(1);
    expect(count(lua, 'trim_dead(KEYS[2], ARGV[4], ARGV[5])'), name).toBe(1);
  }
  for (const name of ALL) expect(scriptSource(name), name).not.toMatch(/^[ \t]*--@include/m);
});

it('an include that cannot be resolved fails at load, naming the script and the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiqgate-lua-'));
  try {
    writeFileSync(join(dir, 'x-1.lua'), "--@include missing.lua\nreturn 1\n");
    expect(() => readScript(dir, 'x-1.lua')).toThrow(/x-1\.lua includes missing\.lua, which cannot be read/);
    writeFileSync(join(dir, 'y-1.lua'), "--@include ../x-1.lua\nreturn 1\n");
    expect(() => readScript(dir, 'y-1.lua')).toThrow(/y-1\.lua: bad include '\.\.\/x-1\.lua'/);
    // An include inside an included file is not expanded: it is reported, never sent to Redis.
    mkdirSync(join(dir, 'include'));
    writeFileSync(join(dir, 'include', 'nested.lua'), "local a = 1\n--@include other.lua\n");
    writeFileSync(join(dir, 'z-1.lua'), "--@include nested.lua\nreturn 1\n");
    expect(() => readScript(dir, 'z-1.lua')).toThrow(/z-1\.lua: unresolved include line after expansion: --@include other\.lua/);
    // A resolvable include is replaced by the file's text.
    writeFileSync(join(dir, 'include', 'one.lua'), "local one = 1\n");
    writeFileSync(join(dir, 'w-1.lua'), "-- w\n--@include one.lua\nreturn one\n");
    expect(readScript(dir, 'w-1.lua')).toBe("-- w\nlocal one = 1\nreturn one\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('fail and bury trim dead through the included fragment; EVALSHA finds the expanded script', async () => {
  await redis.del('dead', 'retry', 'ip', 'sched');
  for (let i = 1; i <= 5; i++) await redis.zadd('dead', i, `e${i}`);
  await redis.rpush('ip', 'r1', 'r2', 'r3');
  await redis.config('RESETSTAT');
  // A retry (trimBelow '') trims nothing.
  expect(await scripts.fail(redis, { inProgress: 'ip', target: 'retry' }, { raw: Buffer.from('r1'), entry: 'x', score: '9', trimBelow: '', keep: 0 })).toBe(1);
  // Dead: below score 3 goes, then the newest 3 stay.
  expect(await scripts.fail(redis, { inProgress: 'ip', target: 'dead' }, { raw: Buffer.from('r2'), entry: 'f', score: '100', trimBelow: '3', keep: 3 })).toBe(1);
  expect(await redis.zrange('dead', 0, -1)).toEqual(['e4', 'e5', 'f']);
  expect(await stat('evalsha')).toEqual({ calls: 1, failed: 0 });
  await redis.zadd('sched', 1, 'bad');
  expect(await scripts.bury(redis, { set: 'sched', dead: 'dead' }, { member: Buffer.from('bad'), entry: 'b', score: '200', trimBelow: '4.5', keep: 2 })).toBe(1);
  expect(await redis.zrange('dead', 0, -1)).toEqual(['f', 'b']);
  expect(await redis.zcard('sched')).toBe(0);
});
