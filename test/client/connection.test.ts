/**
 * The client's connection at the edges of its life: ready() connects at boot (and waits while
 * nothing listens), and close() returns even while Redis cannot be reached.
 */
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { freePort, portAnswers, startRedisServer } from '../../src/support/redis-server.js';
import { TEST_REDIS_URL, testRedis, uniqueNamespace } from '../support/redis.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const settledState = (p: Promise<unknown>) => {
  const state: { now?: 'resolved' | 'rejected' } = {};
  p.then(() => { state.now = 'resolved'; }, () => { state.now = 'rejected'; });
  return state;
};

it('ready() resolves with the client connected: Redis lists its connection', async () => {
  const name = uniqueNamespace('ready');
  const url = new URL(TEST_REDIS_URL);
  // lazyConnect: nothing but ready() itself opens this connection.
  const client = new Client({ redis: { host: url.hostname, port: Number(url.port || 6379), connectionName: name, lazyConnect: true } });
  cleanups.push(() => client.close());
  const admin = testRedis();
  cleanups.push(() => admin.quit());

  await client.ready();
  const list = (await admin.client('LIST')) as string;
  expect(list.split('\n').filter((line) => line.includes(` name=${name} `))).toHaveLength(1);
});

it('ready() waits while nothing listens, and resolves once a Redis starts on that port', async () => {
  const port = await freePort();
  const ns = uniqueNamespace('ready');
  const client = new Client({ redis: `redis://127.0.0.1:${port}`, namespace: ns });
  cleanups.push(() => client.close());

  const ready = client.ready();
  const state = settledState(ready);
  // Let several reconnect attempts fail (the first retries come within a second).
  await new Promise((r) => setTimeout(r, 1_000));
  expect(await portAnswers('127.0.0.1', port)).toBe(false);
  expect(state.now).toBeUndefined();

  const server = await startRedisServer({ port });
  cleanups.push(() => server.stop());
  await ready;

  const jid = await client.enqueue({ class: 'ReadyJob', args: [1] });
  const direct = new Redis(server.url);
  cleanups.push(() => direct.quit());
  const [payload] = await direct.lrange(`${ns}:queue:default`, 0, -1);
  expect(JSON.parse(payload!)).toMatchObject({ class: 'ReadyJob', jid, args: [1] });
});

it('close() returns while Redis is unreachable and a call waits for it; that call never reports success', async () => {
  const port = await freePort();
  const client = new Client({ redis: `redis://127.0.0.1:${port}` });
  const waiting = settledState(client.enqueue({ class: 'LostJob', args: [1] }));
  await new Promise((r) => setTimeout(r, 300));
  expect(await portAnswers('127.0.0.1', port)).toBe(false);

  // Before, close() sent QUIT, which queued behind the waiting LPUSH until Redis came back: forever.
  await client.close();
  await new Promise((r) => setTimeout(r, 100));
  expect(waiting.now).not.toBe('resolved');
});

it('a checked connection that fails leaves no timer behind (a failed command can exit at once)', async () => {
  const { connectChecked } = await import('../../src/support/connection.js');
  const port = await freePort();
  const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  await expect(connectChecked(`redis://127.0.0.1:${port}`)).rejects.toThrow(/ECONNREFUSED/);
  await new Promise((r) => setImmediate(r)); // let ioredis settle its close handlers
  const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  expect(timersAfter).toBeLessThanOrEqual(timersBefore);
});
