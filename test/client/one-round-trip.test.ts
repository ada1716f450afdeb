/**
 * A single enqueue costs one round trip: Sidekiq's two commands (SADD queues, LPUSH queue:<q>)
 * are both handed to the socket in the same synchronous step, before either reply can arrive,
 * so a one-at-a-time producer waits for Redis once per job, as a bare LPUSH does.
 *
 * Seen at the connection's socket: every call of its Writable implementation (`_write` for one
 * chunk, `_writev` for several at once) is recorded with the commands it carries, and the
 * record is read right after enqueue() is called, before its promise is awaited.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { TEST_REDIS_URL, dropNamespace, testRedis, uniqueNamespace } from '../support/redis.js';

type Impl = (this: unknown, ...args: unknown[]) => unknown;

let conn: Redis;
let redis: Redis;
/** The command names (RESP's first bulk string) in each chunk written, in order. */
const written: string[] = [];

const commandName = (chunk: unknown): string => {
  const text = Buffer.isBuffer(chunk) ? chunk.toString('latin1') : String(chunk);
  return text.split('\r\n')[2] ?? '?';
};

beforeAll(async () => {
  conn = new Redis(TEST_REDIS_URL);
  await conn.ping();
  const socket = conn.stream as unknown as { _write: Impl; _writev: Impl };
  const write = socket._write;
  const writev = socket._writev;
  socket._write = function (this: unknown, ...args: unknown[]) {
    written.push(commandName(args[0]));
    return write.apply(this, args);
  };
  socket._writev = function (this: unknown, ...args: unknown[]) {
    for (const c of args[0] as Array<{ chunk: unknown }>) written.push(commandName(c.chunk));
    return writev.apply(this, args);
  };
  redis = testRedis();
});

afterAll(async () => {
  await conn.quit();
  await redis.quit();
});

it('hands SADD and LPUSH of one job to the socket before awaiting any reply, and both take effect', async () => {
  const ns = uniqueNamespace('roundtrip');
  const client = new Client({ redis: conn, namespace: ns, peer: 'sidekiq7' });
  const jids: string[] = [];
  try {
    for (let i = 1; i <= 5; i++) {
      written.length = 0;
      const pending = client.enqueue({ class: 'OneTrip', args: [i], queue: 'one' });
      // Nothing has been awaited yet: no reply can have come back, so both commands are out.
      expect(written).toEqual(['sadd', 'lpush']);
      jids.push(await pending);
      expect(written).toEqual(['sadd', 'lpush']); // and nothing else was sent for the job
    }
    expect(await redis.smembers(`${ns}:queues`)).toEqual(['one']);
    const queued = await redis.lrange(`${ns}:queue:one`, 0, -1);
    expect(queued.reverse().map((p) => (JSON.parse(p) as { jid: string }).jid)).toEqual(jids);
  } finally {
    await dropNamespace(redis, ns);
  }
});
