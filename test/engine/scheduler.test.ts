/**
 * The scheduler moves due schedule/retry members to their queues with enqueued_at updated
 * (every other byte kept), never duplicates a job when schedulers race, and moves a member it
 * cannot decode to dead with its exact bytes.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { KeyLayout, UNDECODABLE_CLASS, undecodableOriginal } from '../../src/wire/index.js';
import { type Worker, Scheduler, resolveConfig } from '../../src/engine/index.js';
import { defineScripts } from '../../src/engine/scripts.js';
import { testRedis, uniqueNamespace } from '../support/redis.js';
import { dropKeys, pushedPayloads, silent, testWorker, until, zsetState } from './helpers.js';

const redis = testRedis();
defineScripts(redis);
let worker: Worker | undefined;
const namespaces: string[] = [];

afterEach(async () => {
  await worker?.stop();
  await dropKeys(redis, worker?.config.namespace);
  worker = undefined;
  for (const ns of namespaces.splice(0)) await dropKeys(redis, ns);
});
afterAll(async () => { await redis.quit(); });

function scheduler(ns: string, conn = redis): Scheduler {
  const config = resolveConfig({ api: { namespace: ns } });
  return new Scheduler(conn, new KeyLayout(ns), config, silent);
}

describe('scheduler', () => {
  it('promotes retry entries and scheduled jobs written by real Sidekiq and Verk, bytes kept but enqueued_at', async () => {
    const ns = uniqueNamespace('sch');
    namespaces.push(ns);
    const k = new KeyLayout(ns);
    const past = Date.now() / 1000 - 5;
    const [[skRetry]] = zsetState('sidekiq-7.3.10/worker-failure-retry', 'retry') as [[string, number]];
    const [vkRetry] = zsetState('verk-1.7.3/worker-failure-retry', 'retry')[0]!;
    const [skSched] = pushedPayloads('sidekiq-7.3.10/scheduled-poll', 'zadd');
    const [vkSched] = pushedPayloads('verk-1.7.3/scheduled-poll', 'zadd');
    const future = pushedPayloads('sidekiq-8.1.7/push-simple')[0]!;
    await redis.zadd(k.retry, past, skRetry, past, vkRetry);
    await redis.zadd(k.schedule, past, skSched!, past, vkSched!, Date.now() / 1000 + 3600, future);

    const before = Date.now() / 1000;
    expect(await scheduler(ns).pollOnce()).toBe(4);
    expect(await redis.zcard(k.retry)).toBe(0);
    expect(await redis.zrange(k.schedule, 0, -1)).toEqual([future]);
    const queued = await redis.lrange(k.queue('default'), 0, -1);
    expect(queued).toHaveLength(4);
    const byJid = new Map(queued.map((q) => [JSON.parse(q).jid as string, q]));

    // Sidekiq retry entry: enqueued_at replaced in place, every other byte unchanged.
    const skOut = byJid.get(JSON.parse(skRetry).jid)!;
    expect(skOut.replace(/"enqueued_at":[\d.]+/, '')).toBe(skRetry.replace(/"enqueued_at":[\d.]+/, ''));
    expect(JSON.parse(skOut).enqueued_at).toBeGreaterThanOrEqual(before - 1);
    // Sidekiq schedule member (no enqueued_at): appended, as Sidekiq's client does on push.
    const skSchedOut = byJid.get(JSON.parse(skSched!).jid)!;
    expect(skSchedOut.startsWith(skSched!.slice(0, -1))).toBe(true);
    expect(skSchedOut).toMatch(/,"enqueued_at":\d+\.\d+}$/);
    // Verk retry entry keeps its enqueued_at (Verk sets it only when null): unchanged bytes.
    expect(byJid.get(JSON.parse(vkRetry).jid)).toBe(vkRetry);
    // Verk schedule member: enqueued_at null → integer seconds now.
    const vkSchedOut = JSON.parse(byJid.get(JSON.parse(vkSched!).jid)!) as Record<string, unknown>;
    expect(Number.isInteger(vkSchedOut.enqueued_at)).toBe(true);
    expect(await redis.smembers(k.queues)).toEqual(['default']);
  });

  it('a worker runs a real peer\'s retry entry after promoting it', async () => {
    const seen: unknown[][] = [];
    worker = testWorker({ pollIntervalMs: 50, handlers: { FailWorker: (args) => { seen.push(args); } } });
    const [[skRetry]] = zsetState('sidekiq-7.3.10/worker-failure-retry', 'retry') as [[string, number]];
    await redis.zadd(worker.keys.retry, Date.now() / 1000 - 1, skRetry);
    await worker.start();
    await until(() => seen.length === 1, 'promoted retry runs');
    expect(seen[0]).toEqual([1]);
    await until(async () => (await redis.llen(worker!.keys.inProgress('default', worker!.nodeId))) === 0, 'acked');
    expect(await redis.zcard(worker.keys.retry)).toBe(0);
  });

  it('two schedulers racing over the same set never duplicate a job', async () => {
    const ns = uniqueNamespace('race');
    namespaces.push(ns);
    const k = new KeyLayout(ns);
    const other = testRedis();
    defineScripts(other);
    try {
      const n = 450;
      const args: Array<string | number> = [];
      for (let i = 0; i < n; i++) args.push(Date.now() / 1000 - 10 + i / 1000, JSON.stringify({ class: 'N', args: [i], queue: 'default', jid: `j${i}`, retry: true }));
      await redis.zadd(k.schedule, ...args);
      const [a, b] = await Promise.all([scheduler(ns).pollOnce(), scheduler(ns, other).pollOnce()]);
      expect(a + b).toBe(n);
      const queued = (await redis.lrange(k.queue('default'), 0, -1)).map((q) => JSON.parse(q).jid as string);
      expect(queued).toHaveLength(n);
      expect(new Set(queued).size).toBe(n);
      expect(await redis.zcard(k.schedule)).toBe(0);
    } finally {
      await other.quit();
    }
  });

  it('an undecodable member goes to dead, wrapped with its exact bytes, instead of blocking the set', async () => {
    const ns = uniqueNamespace('sbad');
    namespaces.push(ns);
    const k = new KeyLayout(ns);
    const bad = Buffer.from([0x7b, 0x22, 0xff, 0x00, 0x7d]);
    const good = JSON.stringify({ class: 'N', args: [], queue: 'other', jid: 'g1' });
    await redis.zadd(k.retry, Date.now() / 1000 - 2, bad, Date.now() / 1000 - 1, good);
    await redis.zadd(k.schedule, Date.now() / 1000 - 2, 'null');
    expect(await scheduler(ns).pollOnce()).toBe(3);
    const dead = (await redis.zrangeBuffer(k.dead, 0, -1)).map((m) => JSON.parse(m.toString('utf8')) as Record<string, unknown>);
    expect(dead).toHaveLength(2);
    const fromRetry = dead.find((e) => e.undecodable_from === 'retry')!;
    expect(undecodableOriginal(JSON.stringify(fromRetry))?.equals(bad)).toBe(true);
    expect(fromRetry).toMatchObject({ class: UNDECODABLE_CLASS, queue: 'default', undecodable_code: 'invalid_utf8', error_class: 'WireError', retry: 0 });
    const fromSchedule = dead.find((e) => e.undecodable_from === 'schedule')!;
    expect(undecodableOriginal(JSON.stringify(fromSchedule))?.toString()).toBe('null');
    expect(fromSchedule.error_message).toBe('invalid_job: payload must be a JSON object (a job hash), got null');
    expect(await redis.exists(k.key('kiqgate:dead_errors'))).toBe(0);
    expect(await redis.llen(k.queue('other'))).toBe(1);
    expect(await redis.zcard(k.retry)).toBe(0);
    expect(await redis.zcard(k.schedule)).toBe(0);
  });

  it('burying into a full dead set trims it to the newest entries', async () => {
    const ns = uniqueNamespace('strim');
    namespaces.push(ns);
    const k = new KeyLayout(ns);
    const bad = [1, 2, 3].map((i) => Buffer.from([0x7b, 0x22, 0xff, i, 0x7d]));
    const t = Date.now() / 1000;
    await redis.zadd(k.retry, t - 3, bad[0]!, t - 2, bad[1]!, t - 1, bad[2]!);
    const config = resolveConfig({ api: { namespace: ns, deadMaxJobs: 1 } });
    expect(await new Scheduler(redis, k, config, silent).pollOnce()).toBe(3);
    const dead = await redis.zrangeBuffer(k.dead, 0, -1);
    expect(dead).toHaveLength(1);
    // One poll buries all three at one score, so which one stays is up to the members' order.
    expect(bad.some((b) => undecodableOriginal(dead[0]!)?.equals(b))).toBe(true);
  });
});
