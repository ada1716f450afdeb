/**
 * A single enqueue hands Sidekiq's two commands (SADD queues, LPUSH queue:<q>) to the socket as
 * ONE write, so a one-at-a-time producer pays one write syscall per job, as a bare LPUSH does.
 *
 * Seen at the connection's socket: every call of its Writable implementation (`_write` for one
 * chunk, `_writev` for several at once) is counted while the job is enqueued on the real Redis.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { TEST_REDIS_URL, dropNamespace, testRedis, uniqueNamespace } from '../support/redis.js';

type Impl = (this: unknown, ...args: unknown[]) => unknown;

let conn: Redis;
let redis: Redis;
const writes: Array<{ chunks: number }> = [];

beforeAll(async () => {
  conn = new Redis(TEST_REDIS_URL);
  await conn.ping();
  const socket = conn.stream as unknown as { _write: Impl; _writev: Impl };
  const write = socket._write;
  const writev = socket._writev;
  socket._write = function (this: unknown, ...args: unknown[]) { writes.push({ chunks: 1 }); return write.apply(this, args); };
  socket._writev = function (this: unknown, ...args: unknown[]) { writes.push({ chunks: (args[0] as unknown[]).length }); return writev.apply(this, args); };
  redis = testRedis();
});

afterAll(async () => {
  await conn.quit();
  await redis.quit();
});

it('writes SADD and LPUSH of one job in one socket write, and both take effect', async () => {
  const ns = uniqueNamespace('onewrite');
  const client = new Client({ redis: conn, namespace: ns, peer: 'sidekiq7' });
  const jids: string[] = [];
  try {
    for (let i = 1; i <= 5; i++) {
      writes.length = 0;
      jids.push(await client.enqueue({ class: 'OneWrite', args: [i], queue: 'one' }));
      expect(writes).toEqual([{ chunks: 2 }]); // one write carrying both commands
    }
    expect(await redis.smembers(`${ns}:queues`)).toEqual(['one']);
    const queued = await redis.lrange(`${ns}:queue:one`, 0, -1);
    expect(queued.reverse().map((p) => (JSON.parse(p) as { jid: string }).jid)).toEqual(jids);
  } finally {
    await dropNamespace(redis, ns);
  }
});
