/**
 * Script calls on a connection: EVAL first on each socket, then EVALSHA with an EVAL fallback on
 * NOSCRIPT (counted on a private redis-server, so the command stats are this test's alone),
 * replies kept as exact bytes, and each command emptied once settled (support/released-command.ts).
 */
import { Command, Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { scripts } from '../../src/engine/scripts.js';
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
