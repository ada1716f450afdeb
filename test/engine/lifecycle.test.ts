/**
 * Lifecycle guarantees: graceful stop aborts what did not finish in time and gives it back
 * with identical bytes; a node restarting with its fixed id recovers its own in-progress jobs
 * first; SCRIPT FLUSH and a Redis restart do not stop processing; queues can be added and
 * removed at run time; the Sidekiq heartbeat is wired in and cleaned up.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Worker } from '../../src/engine/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { testRedis } from '../support/redis.js';
import { dropKeys, pushedPayloads, testWorker, until } from './helpers.js';

const redis = testRedis();
let worker: Worker | undefined;
let server: RedisServerHandle | undefined;

afterEach(async () => {
  await worker?.stop();
  if (!server) await dropKeys(redis, worker?.config.namespace);
  worker = undefined;
  await server?.stop();
  server = undefined;
});
afterAll(async () => { await redis.quit(); });

const job = (cls: string, id: string | number, queue = 'default') => JSON.stringify({ class: cls, args: [id], queue, jid: `j-${id}`, retry: true });

describe('lifecycle', () => {
  it('stop(): finished jobs are acked, unfinished ones aborted and back in the queue byte for byte', async () => {
    const aborted: string[] = [];
    const done: string[] = [];
    worker = testWorker({
      shutdownTimeoutMs: 300,
      handlers: {
        Slow: (args, ctx) => new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => { aborted.push(String(args[0])); reject(ctx.signal.reason); });
        }),
        Fast: (args) => { done.push(String(args[0])); },
      },
    });
    const k = worker.keys;
    const slow = [...pushedPayloads('sidekiq-8.1.7/push-simple').map((p) => p.replace('HardWorker', 'Slow')), job('Slow', 's2'), job('Slow', 's3')];
    await redis.lpush(k.queue('default'), ...slow, job('Fast', 'f1'), job('Fast', 'f2'));
    await worker.start();
    await until(async () => done.length === 2 && worker!.running().length === 3, 'slow jobs running');
    expect(worker.running().map((r) => r.payload).sort()).toEqual([...slow].sort());
    await worker.stop();
    expect(aborted.sort()).toEqual(['1', 's2', 's3']);
    expect(await redis.llen(k.inProgress('default', worker.nodeId))).toBe(0);
    const back = await redis.lrangeBuffer(k.queue('default'), 0, -1);
    expect(back.map((b) => b.toString('utf8')).sort()).toEqual([...slow].sort());
    expect(await redis.get(k.stat('processed'))).toBe('2');
    expect(await redis.zcard(k.retry)).toBe(0);
  });

  it('a node restarting with its fixed id gives back its own in-progress jobs first, others untouched', async () => {
    const order: string[] = [];
    worker = testWorker({ nodeId: 'node-7', queues: { default: 1 }, handlers: { N: (args) => { order.push(String(args[0])); } } });
    const k = worker.keys;
    // As a crashed run left them: LMOVE pushes to the head, so the oldest is at the tail.
    await redis.lpush(k.inProgress('default', 'node-7'), job('N', 'crashed-1'), job('N', 'crashed-2'));
    await redis.lpush(k.inProgress('default', 'node-8'), job('N', 'other-node'));
    await redis.lpush(k.queue('default'), job('N', 'waiting-1'), job('N', 'waiting-2'));
    await worker.start();
    await until(() => order.length === 4, 'all four run');
    expect(order).toEqual(['crashed-1', 'crashed-2', 'waiting-1', 'waiting-2']);
    expect(await redis.lrange(k.inProgress('default', 'node-8'), 0, -1)).toEqual([job('N', 'other-node')]);
  });

  it('keeps running through SCRIPT FLUSH and a Redis restart', async () => {
    server = await startRedisServer();
    const own = testRedis(server.url);
    try {
      const seen = new Set<string>();
      worker = testWorker({ redis: server.url, handlers: { N: (args) => { seen.add(String(args[0])); } } });
      const k = worker.keys;
      await own.lpush(k.queue('default'), job('N', 'a'));
      await worker.start();
      await until(() => seen.has('a'), 'first job');
      await own.script('FLUSH');
      await own.lpush(k.queue('default'), ...Array.from({ length: 50 }, (_, i) => job('N', `b${i}`)));
      await until(() => seen.size === 51, 'jobs after SCRIPT FLUSH');
      await own.zadd(k.retry, Date.now() / 1000 - 1, job('N', 'retried'));
      await own.script('FLUSH');
      await worker.requeueInProgress('default', 'nobody'); // a script call on a flushed cache
      await until(async () => (await own.llen(k.inProgress('default', worker!.nodeId))) === 0, 'acked');

      // Restart Redis on the same port (no persistence: the data is gone, processing must resume).
      const port = server.port;
      own.disconnect();
      await server.stop();
      server = await startRedisServer({ port });
      const again = testRedis(server.url);
      await again.lpush(k.queue('default'), job('N', 'after-restart'));
      await until(() => seen.has('after-restart'), 'job after the restart', 20_000);
      again.disconnect();
    } finally {
      own.disconnect();
    }
  });

  it('addQueue/removeQueue at run time; the Sidekiq heartbeat registers and deregisters the process', async () => {
    const seen: string[] = [];
    worker = testWorker({ sidekiqHeartbeat: true, handlers: { N: (args) => { seen.push(String(args[0])); } } });
    const k = worker.keys;
    await worker.start();
    expect(await redis.sismember(k.processes, worker.identity)).toBe(1);
    worker.addQueue('extra', 3);
    expect(worker.queues()).toEqual(['default', 'extra']);
    expect(worker.concurrency()).toBe(13);
    await redis.lpush(k.queue('extra'), job('N', 'x1', 'extra'));
    await until(() => seen.includes('x1'), 'job on the added queue');
    await worker.removeQueue('extra');
    await redis.lpush(k.queue('extra'), job('N', 'x2', 'extra'));
    await new Promise((r) => setTimeout(r, 200));
    expect(await redis.llen(k.queue('extra'))).toBe(1);
    await worker.stop();
    expect(await redis.sismember(k.processes, worker.identity)).toBe(0);
  });
});
