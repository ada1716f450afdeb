/**
 * Issue 16, "prefetch starves co-consumers": a runner moves a job into its in-progress list only
 * when a slot can start it, so with every slot busy the waiting jobs stay in `queue:<q>`, where
 * Sidekiq's stats and every other consumer of the queue see them. `prefetch: N` (opt-in) holds
 * exactly N more. States are asserted, never speeds.
 */
import { describe, expect, it } from 'vitest';
import type { Worker } from '../../src/engine/index.js';
import { testRedis } from '../support/redis.js';
import { sleep } from '../support/wait.js';
import { stopWorkerAfterEach, testWorker, until } from './helpers.js';

const redis = testRedis();
let worker: Worker | undefined;
stopWorkerAfterEach(redis, () => worker);

const job = (cls: string, id: string) => JSON.stringify({ class: cls, args: [id], queue: 'default', jid: `jid-${id}`, retry: true, created_at: 1, enqueued_at: 1 });

/** Five Slow jobs blocked on one promise the test releases, and a Fast class; counts every run. */
function busyWorker(prefetch?: number) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const runs = new Map<string, number>();
  const count = (args: unknown[]) => runs.set(String(args[0]), (runs.get(String(args[0])) ?? 0) + 1);
  const w = testWorker({
    queues: { default: 5 },
    blockTimeoutSeconds: 1,
    ...(prefetch === undefined ? {} : { prefetch }),
    handlers: {
      Slow: async (args) => { count(args); await gate; },
      Fast: (args) => { count(args); },
    },
  });
  return { w, runs, release };
}

/**
 * Samples the queue and in-progress lengths for longer than one BLMOVE timeout (1 s here), so a
 * tick, a BLMOVE and its re-check have all had their chance to fetch: the extremes seen.
 */
async function watch(w: Worker): Promise<{ maxInProgress: number; minQueued: number }> {
  const k = w.keys;
  let maxInProgress = 0;
  let minQueued = Infinity;
  const end = Date.now() + 1_500;
  while (Date.now() < end) {
    const replies = (await redis.multi().llen(k.inProgress('default', w.nodeId)).llen(k.queue('default')).exec())!;
    maxInProgress = Math.max(maxInProgress, replies[0]![1] as number);
    minQueued = Math.min(minQueued, replies[1]![1] as number);
    await sleep(10);
  }
  return { maxInProgress, minQueued };
}

describe('fetch only what a free slot starts (issue 16)', () => {
  it('with all 5 slots busy, 10 jobs pushed afterwards all stay in the queue; released, all 15 run exactly once', async () => {
    const { w, runs, release } = busyWorker();
    worker = w;
    const k = w.keys;
    const slow = ['s1', 's2', 's3', 's4', 's5'].map((id) => job('Slow', id));
    await redis.lpush(k.queue('default'), ...slow);
    await w.start();
    await until(() => w.running().length === 5, 'the five slow jobs to run');

    const fast = Array.from({ length: 10 }, (_, i) => job('Fast', `f${i}`));
    await redis.lpush(k.queue('default'), ...fast);
    const seen = await watch(w);
    expect(seen).toEqual({ maxInProgress: 5, minQueued: 10 });
    // In-progress holds exactly the running jobs; the queue every waiting one, for Sidekiq's stats.
    const inProgress = await redis.lrange(k.inProgress('default', w.nodeId), 0, -1);
    expect(inProgress.sort()).toEqual([...slow].sort());
    expect(w.running().map((r) => r.payload).sort()).toEqual([...slow].sort());
    expect((await redis.lrange(k.queue('default'), 0, -1)).sort()).toEqual([...fast].sort());
    expect([...runs.keys()].sort()).toEqual(['s1', 's2', 's3', 's4', 's5']);

    release();
    await until(() => runs.size === 15, 'all 15 jobs to run', 20_000);
    await until(async () => (await redis.llen(k.inProgress('default', w.nodeId))) === 0 && (await redis.get(k.stat('processed'))) === '15', 'all acked', 20_000);
    expect(await redis.llen(k.queue('default'))).toBe(0);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
  });

  it('prefetch: 3 (opt-in) holds exactly 3 waiting jobs beyond the running ones, and runs them once', async () => {
    const { w, runs, release } = busyWorker(3);
    worker = w;
    const k = w.keys;
    await redis.lpush(k.queue('default'), ...['s1', 's2', 's3', 's4', 's5'].map((id) => job('Slow', id)));
    await w.start();
    await until(() => w.running().length === 5, 'the five slow jobs to run');

    await redis.lpush(k.queue('default'), ...Array.from({ length: 10 }, (_, i) => job('Fast', `f${i}`)));
    await until(async () => (await redis.llen(k.inProgress('default', w.nodeId))) === 8, 'three jobs prefetched');
    expect(await watch(w)).toEqual({ maxInProgress: 8, minQueued: 7 });
    expect(w.running()).toHaveLength(5);

    release();
    await until(() => runs.size === 15, 'all 15 jobs to run', 20_000);
    await until(async () => (await redis.llen(k.inProgress('default', w.nodeId))) === 0 && (await redis.get(k.stat('processed'))) === '15', 'all acked', 20_000);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
  });
});
