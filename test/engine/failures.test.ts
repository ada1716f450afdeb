/**
 * Failures write what the runtime the worker stands in for (its `peer`) writes; here each job
 * fails in a worker standing in for its own producer: the retry entry has the same fields and
 * types as the one the real peer wrote in the fixture, with the peer's first retry_count and
 * time unit; exhausted jobs go to dead; `retry: false` drops the job. (A job failed by another
 * runtime: test/engine/cross-runtime-failures.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { Worker } from '../../src/engine/index.js';
import type { Peer } from '../../src/wire/index.js';
import { testRedis } from '../support/redis.js';
import { pushedPayloads, stopWorkerAfterEach, testWorker, until, zsetState } from './helpers.js';

const redis = testRedis();
let worker: Worker | undefined;

stopWorkerAfterEach(redis, () => worker);

/** JSON type of every field, to compare an entry's shape with the fixture's. */
function shape(json: string): Record<string, string> {
  const o = JSON.parse(json) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'int' : typeof v]));
}

function boom(): never {
  throw new Error('boom');
}

async function retryEntries(w: Worker): Promise<Array<[string, number]>> {
  const flat = await redis.zrange(w.keys.retry, 0, -1, 'WITHSCORES');
  const out: Array<[string, number]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, Number(flat[i + 1])]);
  return out;
}

describe('failures', () => {
  for (const [version, peer] of [['sidekiq-6.4.1', 'sidekiq6'], ['sidekiq-7.3.10', 'sidekiq7'], ['sidekiq-8.1.7', 'sidekiq8']] as const) {
    it(`${version}: a failing job lands in retry with the fields the real peer wrote`, async () => {
      worker = testWorker({ peer, handlers: { FailWorker: boom } });
      const k = worker.keys;
      const [pushed] = pushedPayloads(`${version}/worker-failure-retry`);
      const [[expected]] = zsetState(`${version}/worker-failure-retry`, 'retry') as [[string, number]];
      await redis.lpush(k.queue('default'), pushed!);
      const before = Date.now() / 1000;
      await worker.start();
      const [entry] = await until(async () => { const e = await retryEntries(worker!); return e.length === 1 ? e : undefined; }, 'retry entry');
      const after = Date.now() / 1000;
      const [json, score] = entry!;
      const got = JSON.parse(json) as Record<string, unknown>;
      // Same keys in the same order, same JSON types, as the real peer's retry entry.
      expect(Object.keys(got)).toEqual(Object.keys(JSON.parse(expected)));
      expect(shape(json)).toEqual(shape(expected));
      expect(got.error_message).toBe('boom');
      expect(got.error_class).toBe('Error');
      expect(got.retry_count).toBe(0);
      // Untouched fields keep their exact bytes (created_at/enqueued_at as the peer wrote them).
      const orig = JSON.parse(pushed!) as Record<string, unknown>;
      expect(json.startsWith(pushed!.slice(0, -1))).toBe(true);
      expect(got.jid).toBe(orig.jid);
      const failedAtS = version.startsWith('sidekiq-8') ? (got.failed_at as number) / 1000 : (got.failed_at as number);
      if (version.startsWith('sidekiq-8')) expect(Number.isInteger(got.failed_at)).toBe(true);
      else expect(/"failed_at":\d+\.\d+/.test(json)).toBe(true);
      expect(failedAtS).toBeGreaterThanOrEqual(before - 1);
      expect(failedAtS).toBeLessThanOrEqual(after + 1);
      // c = 0: 15 s + jitter (≤ 7: 0..9 × 1; 8: 0..9) after the failure.
      expect(score).toBeGreaterThanOrEqual(failedAtS + 15 - 0.01);
      expect(score).toBeLessThanOrEqual(failedAtS + 25);
      await until(async () => (await redis.get(k.stat('failed'))) === '1', 'stat:failed');
      expect(await redis.get(k.stat('processed'))).toBe('1');
      expect(await redis.llen(k.inProgress('default', worker.nodeId))).toBe(0);
    });
  }

  it('verk-1.7.3: a failing job lands in retry as Verk writes it (retry_count 1, int seconds, backtrace "\\n")', async () => {
    worker = testWorker({ peer: 'verk', handlers: { FailingWorker: boom } });
    const k = worker.keys;
    const [pushed] = pushedPayloads('verk-1.7.3/worker-failure-retry');
    const [[expected]] = zsetState('verk-1.7.3/worker-failure-retry', 'retry') as [[string, number]];
    await redis.lpush(k.queue('default'), pushed!);
    await worker.start();
    const [entry] = await until(async () => { const e = await retryEntries(worker!); return e.length === 1 ? e : undefined; }, 'retry entry');
    const [json, score] = entry!;
    const got = JSON.parse(json) as Record<string, unknown>;
    expect(Object.keys(got)).toEqual(Object.keys(JSON.parse(expected)));
    expect(shape(json)).toEqual(shape(expected));
    expect(got).toMatchObject({ error_message: 'boom', error_backtrace: '\n', retry_count: 1, retried_at: null, enqueued_at: 1795872304 });
    const failedAt = got.failed_at as number;
    expect(Number.isInteger(failedAt)).toBe(true);
    // Verk: count^4 + 15 + uniform(1..30)·(count+1), count = 1: 18..76 s after the failure second.
    expect(score).toBeGreaterThanOrEqual(failedAt + 18);
    expect(score).toBeLessThanOrEqual(failedAt + 76);
  });

  it('exhausted retries go to dead (Sidekiq retry: N), retry: false is dropped', async () => {
    worker = testWorker({ handlers: { FailWorker: boom } });
    const k = worker.keys;
    const sk = pushedPayloads('sidekiq-7.3.10/worker-failure-retry')[0]!
      .replace('"retry":true', '"retry":2').replace(/}$/, ',"error_message":"boom","error_class":"RuntimeError","failed_at":1795872507.2341504,"retry_count":1}');
    const dropped = pushedPayloads('sidekiq-7.3.10/worker-failure-retry')[0]!.replace('"retry":true', '"retry":false');
    await redis.lpush(k.queue('default'), sk, dropped);
    await worker.start();
    await until(async () => (await redis.get(k.stat('failed'))) === '2', '2 failures');
    await until(async () => (await redis.llen(k.inProgress('default', worker!.nodeId))) === 0, 'in-progress empty');
    expect(await redis.zcard(k.retry)).toBe(0);
    const dead = await redis.zrange(k.dead, 0, -1);
    expect(dead).toHaveLength(1);
    const s = JSON.parse(dead[0]!) as Record<string, unknown>;
    expect(s).toMatchObject({ class: 'FailWorker', retry: 2, retry_count: 2, error_message: 'boom', failed_at: 1795872507.2341504 });
    expect(typeof s.retried_at).toBe('number');
    expect(await redis.get(k.stat('processed'))).toBe('2');
  });

  it('exhausted retries go to dead (Verk max_retry_count) in a worker standing in for Verk', async () => {
    worker = testWorker({ peer: 'verk' satisfies Peer, handlers: { FailingWorker: boom } });
    const k = worker.keys;
    const vk = pushedPayloads('verk-1.7.3/worker-failure-retry')[0]!
      .replace('"max_retry_count":25', '"max_retry_count":1').replace('"retry_count":0', '"retry_count":1');
    await redis.lpush(k.queue('default'), vk);
    await worker.start();
    await until(async () => (await redis.get(k.stat('failed'))) === '1', 'the failure');
    await until(async () => (await redis.llen(k.inProgress('default', worker!.nodeId))) === 0, 'in-progress empty');
    expect(await redis.zcard(k.retry)).toBe(0);
    const dead = await redis.zrange(k.dead, 0, -1);
    expect(dead).toHaveLength(1);
    const v = JSON.parse(dead[0]!) as Record<string, unknown>;
    expect(v).toMatchObject({ class: 'FailingWorker', max_retry_count: 1, retry_count: 2, error_message: 'boom' });
    expect(Number.isInteger(v.retried_at)).toBe(true);
  });

  it('a per-class retryAt sets the score; the dead set is trimmed to deadMaxJobs', async () => {
    const at = new Date(Date.UTC(2030, 0, 1));
    worker = testWorker({
      deadMaxJobs: 2,
      handlers: {
        Custom: { handler: boom, retryAt: (failedAt, count) => { expect(failedAt).toBeInstanceOf(Date); expect(count).toBe(0); return at; } },
        Dies: boom,
      },
    });
    const k = worker.keys;
    await redis.lpush(k.queue('default'), JSON.stringify({ class: 'Custom', args: [], queue: 'default', jid: 'c1', retry: true }));
    for (let i = 0; i < 4; i++) await redis.lpush(k.queue('default'), JSON.stringify({ class: 'Dies', args: [i], queue: 'default', jid: `d${i}`, retry: 0 }));
    await worker.start();
    await until(async () => (await redis.get(k.stat('failed'))) === '5', '5 failures');
    const [, score] = await redis.zrange(k.retry, 0, -1, 'WITHSCORES');
    expect(Number(score)).toBe(at.getTime() / 1000);
    const dead = await redis.zrange(k.dead, 0, -1);
    expect(dead.map((d) => JSON.parse(d).jid)).toEqual(['d2', 'd3']);
  });
});
