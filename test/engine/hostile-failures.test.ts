/**
 * Every failing job ends in retry, dead or (as Sidekiq's retry: false) dropped, whatever the
 * handler throws, whatever a job:failed listener or the logger does: never left in
 * in-progress. Checked on real Redis through a real Worker.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Worker } from '../../src/engine/index.js';
import { anyThrown, HOSTILE, type Hostile } from '../support/hostile-thrown.js';
import { captureLog } from '../support/log-capture.js';
import { testRedis } from '../support/redis.js';
import { stopWorkerAfterEach, testWorker, until } from './helpers.js';

const redis = testRedis();
let worker: Worker | undefined;

stopWorkerAfterEach(redis, () => worker);

const job = (cls: string, i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ class: cls, args: [i], queue: 'default', jid: `j${i}`, retry: true, ...extra });

/** Retry entries by jid (each jid must be there once). */
async function retryByJid(w: Worker): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const e of await redis.zrange(w.keys.retry, 0, -1)) {
    const o = JSON.parse(e) as Record<string, unknown>;
    expect(out.has(String(o.jid)), `jid ${String(o.jid)} in retry once`).toBe(false);
    out.set(String(o.jid), o);
  }
  return out;
}

/** Runs one job per recipe through a worker whose handler throws the recipe's value. */
async function throwEach(recipes: readonly Hostile[], opts: Parameters<typeof testWorker>[0] = {}): Promise<Map<string, Record<string, unknown>>> {
  worker = testWorker({ ...opts, handlers: { Hostile: (args) => { throw recipes[Number(args[0])]!.make(); } } });
  const k = worker.keys;
  await redis.lpush(k.queue('default'), ...recipes.map((_, i) => job('Hostile', i)));
  await worker.start();
  await until(async () => (await redis.zcard(k.retry)) === recipes.length, `${recipes.length} retry entries`);
  await until(async () => (await redis.llen(k.inProgress('default', worker!.nodeId))) === 0, 'in-progress empty');
  expect(await redis.get(k.stat('failed'))).toBe(String(recipes.length));
  return retryByJid(worker);
}

describe('hostile thrown values', () => {
  it('each hand-made hostile value: the job is in retry once, with retry_count 0 and a sensible error_message', async () => {
    const entries = await throwEach(HOSTILE);
    HOSTILE.forEach((h, i) => {
      const e = entries.get(`j${i}`)!;
      expect(e, h.label).toBeDefined();
      expect(e.retry_count, h.label).toBe(0);
      expect(typeof e.error_class, h.label).toBe('string');
      expect(e.error_message, h.label).toMatch(h.message);
      expect(e.error_message, h.label).not.toContain('[object Object]');
    });
    expect(entries.get(`j${HOSTILE.findIndex((h) => h.label === 'Symbol')}`)!.error_message).toContain('Symbol(sym-desc)');
    expect(entries.get(`j${HOSTILE.findIndex((h) => h.label === 'circular object')}`)!.error_message).toMatch(/\{ a: 1, self: \[Circular \*1\] \}/);
  });

  it('arbitrary thrown values (fast-check): every job is in retry once, never left in in-progress', async () => {
    const seed = Date.now() % 100_000; // named in every failure message, to replay the sample
    const recipes = fc.sample(anyThrown, { numRuns: 60, seed });
    const entries = await throwEach(recipes);
    recipes.forEach((h, i) => {
      const e = entries.get(`j${i}`)!;
      const what = `${h.label} #${i} (fast-check seed ${seed})`;
      expect(e?.retry_count, what).toBe(0);
      expect(typeof e.error_message, what).toBe('string');
      expect(e.error_message, what).toMatch(h.message);
    });
  });

  it('a job:failed listener that throws a hostile value breaks nothing; listeners get the safe description too', async () => {
    const seen: Array<{ errorClass: string; errorMessage: string; outcome: string }> = [];
    worker = testWorker({ handlers: { Hostile: () => { throw HOSTILE.find((h) => h.label === 'Proxy whose traps all throw')!.make(); } } });
    worker.on('job:failed', (e) => { seen.push({ errorClass: e.errorClass, errorMessage: e.errorMessage, outcome: e.outcome }); });
    worker.on('job:failed', () => { throw HOSTILE.find((h) => h.label === 'Error whose message getter throws')!.make(); });
    const k = worker.keys;
    await redis.lpush(k.queue('default'), job('Hostile', 1), job('Hostile', 2));
    await worker.start();
    await until(async () => (await redis.zcard(k.retry)) === 2, 'both in retry');
    await until(async () => (await redis.llen(k.inProgress('default', worker!.nodeId))) === 0, 'in-progress empty');
    expect(seen).toEqual([1, 2].map(() => ({ errorClass: 'Error', errorMessage: 'non-error thrown: {}', outcome: 'retry' })));
  });

  it('a logger that throws on the fail line changes nothing: the job is in retry as computed', async () => {
    const log = captureLog('info', {
      hooks: {
        logMethod(args, method) {
          if (args.some((a) => typeof a === 'string' && a.startsWith('fail:'))) throw new Error('log sink broken');
          return method.apply(this, args);
        },
      },
    });
    worker = testWorker({ logger: log.logger, handlers: { Boom: () => { throw new Error('boom'); } } });
    const k = worker.keys;
    await redis.lpush(k.queue('default'), job('Boom', 1));
    await worker.start();
    await until(async () => (await redis.zcard(k.retry)) === 1, 'the job in retry');
    await until(async () => (await redis.llen(k.inProgress('default', worker!.nodeId))) === 0, 'in-progress empty');
    const [entry] = await redis.zrange(k.retry, 0, -1);
    expect(JSON.parse(entry!)).toMatchObject({ jid: 'j1', retry_count: 0, error_message: 'boom', error_class: 'Error' });
    expect(await redis.zcard(k.dead)).toBe(0);
  });

  it('a logger that throws on the start line changes nothing: the job runs and is acked', async () => {
    const log = captureLog('debug', {
      hooks: {
        logMethod(args, method) {
          if (args.includes('start')) throw new Error('log sink broken');
          return method.apply(this, args);
        },
      },
    });
    const ran: unknown[] = [];
    worker = testWorker({ logger: log.logger, handlers: { Fine: (args) => { ran.push(args[0]); } } });
    const k = worker.keys;
    await redis.lpush(k.queue('default'), job('Fine', 1));
    await worker.start();
    await until(async () => (await redis.get(k.stat('processed'))) === '1', 'the job processed');
    await until(async () => (await redis.llen(k.inProgress('default', worker!.nodeId))) === 0, 'in-progress empty');
    expect(ran).toEqual([1]);
    expect(await redis.get(k.stat('failed'))).toBeNull();
    expect(await redis.zcard(k.retry)).toBe(0);
    expect(await redis.zcard(k.dead)).toBe(0);
    expect(log.lines().some((l) => l.msg === 'done' && l.jid === 'j1')).toBe(true);
  });

  it('a retry_count so large that the backoff overflows (or its jitter is out of range) sends the job to dead once, never leaves it in in-progress', async () => {
    worker = testWorker({ handlers: { Boom: () => { throw new Error('boom'); } } });
    const k = worker.keys;
    // Integer-ms created_at: a Sidekiq 8 job, whose jitter range, 10 * (count + 1), is beyond
    // what crypto.randomInt takes; 1e80 makes count^4 Infinity, a score Redis refuses.
    const raws = [
      job('Boom', 1, { created_at: 1_700_000_000_000, retry: 2 ** 50, retry_count: 2 ** 48 }),
      job('Boom', 2, { retry: 1e100, retry_count: 1e80 }),
    ];
    await redis.lpush(k.queue('default'), ...raws);
    await worker.start();
    await until(async () => (await redis.zcard(k.dead)) === 2, 'both jobs in dead');
    await until(async () => (await redis.llen(k.inProgress('default', worker!.nodeId))) === 0, 'in-progress empty');
    const dead = (await redis.zrange(k.dead, 0, -1)).map((e) => JSON.parse(e) as Record<string, unknown>);
    expect(dead.map((d) => d.jid).sort()).toEqual(['j1', 'j2']);
    for (const d of dead) expect(d).toMatchObject({ class: 'Boom', error_message: 'boom' });
    expect(await redis.zcard(k.retry)).toBe(0);
  });
});
