/**
 * A job pushed by a real peer (the exact bytes from the fixtures) runs with the exact args,
 * is acked by its bytes (in-progress empty), and counts in Sidekiq's stats.
 */
import { describe, expect, it } from 'vitest';
import type { Worker } from '../../src/engine/index.js';
import { testRedis } from '../support/redis.js';
import { pushedPayloads, stopWorkerAfterEach, testWorker, until } from './helpers.js';

const redis = testRedis();
let worker: Worker | undefined;

stopWorkerAfterEach(redis, () => worker);

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

describe('processing peer-written jobs', () => {
  it('runs Sidekiq 6/7/8 and Verk payloads with their exact args and acks them', async () => {
    const seen: Array<{ cls: string; args: unknown[]; jid: string | undefined }> = [];
    worker = testWorker({
      queues: { default: 5 },
      handlers: {
        HardWorker: (args, ctx) => { seen.push({ cls: ctx.className, args, jid: ctx.jid }); },
        ExampleWorker: (args, ctx) => { seen.push({ cls: ctx.className, args, jid: ctx.jid }); },
      },
    });
    const k = worker.keys;
    const payloads = [
      ...pushedPayloads('sidekiq-6.4.1/push-simple'),
      ...pushedPayloads('sidekiq-7.3.10/push-simple'),
      ...pushedPayloads('sidekiq-8.1.7/push-simple'),
      ...pushedPayloads('verk-1.7.3/enqueue'),
    ];
    expect(payloads).toHaveLength(4);
    await redis.lpush(k.queue('default'), ...payloads);
    await worker.start();
    await until(() => seen.length === 4, '4 jobs run');
    await until(async () => (await redis.get(k.stat('processed'))) === '4', 'stat:processed = 4');

    const byJid = new Map(seen.map((s) => [s.jid, s]));
    for (const p of payloads.slice(0, 3)) {
      const jid = JSON.parse(p).jid as string;
      expect(byJid.get(jid)).toEqual({ cls: 'HardWorker', args: [1, 'two'], jid });
    }
    expect(byJid.get('23267303753045632599')).toEqual({ cls: 'ExampleWorker', args: [1, 2], jid: '23267303753045632599' });
    expect(await redis.llen(k.inProgress('default', worker.nodeId))).toBe(0);
    expect(await redis.llen(k.queue('default'))).toBe(0);
    expect(await redis.get(k.stat('processed', today()))).toBe('4');
    expect(await redis.ttl(k.stat('processed', today()))).toBeGreaterThan(157_000_000);
    expect(await redis.get(k.stat('failed'))).toBeNull();
  });

  it('hands big integers as BigInt, Verk string args decoded, and unicode intact', async () => {
    const seen: unknown[][] = [];
    worker = testWorker({ handlers: { HardWorker: (args) => { seen.push(args); }, ExampleWorker: (args) => { seen.push(args); } } });
    const k = worker.keys;
    // The fixture's Sidekiq 7 payload and Verk payload, with their args replaced in the text.
    const sk = pushedPayloads('sidekiq-7.3.10/push-simple')[0]!.replace('"args":[1,"two"]', '"args":[4611686018427387904,"héllo ✓ 日本 🎉",{"k":[-9223372036854775808]}]');
    const vk = pushedPayloads('verk-1.7.3/enqueue')[0]!.replace('"args":"[1,2]"', '"args":"[4611686018427387904,\\"ünï\\"]"');
    await redis.lpush(k.queue('default'), sk);
    await worker.start();
    await until(() => seen.length === 1, 'sidekiq job');
    await redis.lpush(k.queue('default'), vk);
    await until(() => seen.length === 2, 'verk job');
    expect(seen[0]).toEqual([2n ** 62n, 'héllo ✓ 日本 🎉', { k: [-(2n ** 63n)] }]);
    expect(seen[1]).toEqual([2n ** 62n, 'ünï']);
    await until(async () => (await redis.llen(k.inProgress('default', worker!.nodeId))) === 0, 'acked');
  });

  it('gives the handler its context and emits typed events, also as an async iterator', async () => {
    let ctxSeen: { queue: string; retryCount: number | undefined; aborted: boolean } | undefined;
    worker = testWorker({
      queues: { critical: 2 },
      handlers: new Map([['HardWorker', (_args: unknown, ctx: { queue: string; retryCount: number | undefined; signal: AbortSignal }) => {
        ctxSeen = { queue: ctx.queue, retryCount: ctx.retryCount, aborted: ctx.signal.aborted };
      }]]),
    });
    const events = worker.events();
    const finished: unknown[] = [];
    worker.on('job:finished', (e) => finished.push(e));
    const payload = pushedPayloads('sidekiq-7.3.10/push-simple')[0]!.replace('"queue":"default"', '"queue":"critical"');
    await redis.lpush(worker.keys.queue('critical'), payload);
    await worker.start();
    const types: string[] = [];
    for await (const e of events) {
      types.push(e.type);
      if (e.type === 'job:finished') {
        expect(e.durationMs).toBeGreaterThanOrEqual(0);
        expect(e.className).toBe('HardWorker');
        break;
      }
    }
    expect(types).toEqual(['queue:running', 'job:started', 'job:finished']);
    expect(finished).toHaveLength(1);
    expect(ctxSeen).toEqual({ queue: 'critical', retryCount: undefined, aborted: false });
  });

  it('drains many jobs across queues with batched fetches, each exactly once', async () => {
    const counts = new Map<string, number>();
    worker = testWorker({
      queues: { a: 50, b: 3 },
      handlers: { N: (args) => { const id = String(args[0]); counts.set(id, (counts.get(id) ?? 0) + 1); } },
    });
    const k = worker.keys;
    const jobs = (q: string, n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ class: 'N', args: [`${q}${i}`], queue: q, jid: `${q}${i}`, retry: true }));
    await redis.lpush(k.queue('a'), ...jobs('a', 2000));
    await redis.lpush(k.queue('b'), ...jobs('b', 200));
    await worker.start();
    await until(() => counts.size === 2200, '2200 jobs run', 30_000);
    await until(async () => (await redis.get(k.stat('processed'))) === '2200', 'stats flushed');
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    expect(await redis.llen(k.inProgress('a', worker.nodeId))).toBe(0);
    expect(await redis.llen(k.inProgress('b', worker.nodeId))).toBe(0);
  });

  it('picks up a job pushed to an idle worker (blocking fetch), and pause/resume stop and restart fetching', async () => {
    const seen: string[] = [];
    worker = testWorker({ handlers: { N: (args) => { seen.push(String(args[0])); } } });
    const k = worker.keys;
    const paused: string[] = [];
    worker.on('queue:paused', (e) => paused.push(e.queue));
    await worker.start();
    await new Promise((r) => setTimeout(r, 100));
    await redis.lpush(k.queue('default'), JSON.stringify({ class: 'N', args: ['one'], queue: 'default' }));
    await until(() => seen.length === 1, 'idle pickup');
    worker.pauseQueue('default');
    await until(() => paused.length === 1, 'queue:paused');
    await redis.lpush(k.queue('default'), JSON.stringify({ class: 'N', args: ['two'], queue: 'default' }));
    await new Promise((r) => setTimeout(r, 300));
    expect(await redis.llen(k.queue('default'))).toBe(1); // paused: not fetched
    worker.resumeQueue('default');
    await until(() => seen.length === 2, 'resumed pickup');
    expect(seen).toEqual(['one', 'two']);
  });
});
