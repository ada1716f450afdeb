/**
 * Sidekiq's execution metrics written by a real worker standing in for Sidekiq 7 and 8: the
 * `j|…` hashes (fields `<Class>|p`, `|f`, `|ms`), the run-time histogram (BITFIELD u16
 * counters) and their TTLs, with the keys exactly as the version's ExecutionTracker names them
 * (src/wire/execution-metrics.ts cites the Sidekiq source), and the first flush of the command
 * streams captured from real Sidekiq 7.3.10 and 8.1.7 (fixtures/) replayed: same keys, fields,
 * counters and TTLs. (Sidekiq 7/8 cannot run here, Debian ships 6.4.1; the Web UI page itself
 * was not opened.)
 */
import { describe, expect, it } from 'vitest';
import type { Worker } from '../../src/engine/index.js';
import { ConfigError, resolveConfig } from '../../src/engine/index.js';
import { SidekiqExecutionMetrics } from '../../src/engine/sidekiq-metrics.js';
import { KeyLayout, SIDEKIQ7_EXECUTION_METRICS, SIDEKIQ8_EXECUTION_METRICS, type ExecutionMetricsLayout } from '../../src/wire/index.js';
import { argvStrings } from '../support/fixtures.js';
import { dropNamespace, testRedis, uniqueNamespace } from '../support/redis.js';
import { fixture, silent, stopWorkerAfterEach, testWorker, until } from './helpers.js';

const redis = testRedis();
let worker: Worker | undefined;
stopWorkerAfterEach(redis, () => worker);

/** Every key of the worker's namespace matching `pattern` (relative names). */
async function keysLike(ns: string, pattern: string): Promise<string[]> {
  const found = await redis.keys(`${ns}:${pattern}`);
  return found.map((k) => k.slice(ns.length + 1)).sort();
}

/** Runs 3 `Fast` and 2 failing `Slowpoke` jobs to their end, stops the worker (the last flush). */
async function runJobs(peer: 'sidekiq7' | 'sidekiq8'): Promise<{ ns: string; before: number; after: number }> {
  let ran = 0;
  worker = testWorker({
    peer,
    handlers: {
      Fast: () => { ran++; },
      Slowpoke: () => { ran++; throw new Error('fails'); },
    },
  });
  const ns = worker.config.namespace!;
  const k = worker.keys;
  const job = (cls: string, i: number) => JSON.stringify({ class: cls, args: [i], queue: 'default', jid: `${cls}${i}`.padEnd(24, '0'), retry: 0, created_at: 1, enqueued_at: 1 });
  await redis.lpush(k.queue('default'), job('Fast', 1), job('Fast', 2), job('Fast', 3), job('Slowpoke', 1), job('Slowpoke', 2));
  await worker.start();
  await until(async () => ran === 5 && (await redis.zcard(k.dead)) === 2 && (await redis.llen(k.inProgress('default', worker!.nodeId))) === 0, 'the five jobs done');
  const before = Date.now();
  await worker.stop();
  return { ns, before, after: Date.now() };
}

/** The keys a flush at some moment in [before, after] writes (minute boundaries may split it). */
function expectedKeys(layout: ExecutionMetricsLayout, cls: string, t: { before: number; after: number }): { buckets: string[][]; hist: string[] } {
  return {
    buckets: [t.before, t.after].map((at) => layout.jobBuckets(at).map((b) => b.key)),
    hist: [t.before, t.after].map((at) => layout.histogramKey(cls, at)),
  };
}

describe("Sidekiq's execution metrics (Web UI Metrics page)", () => {
  it('formats the keys as each version does for a given moment', () => {
    const at = Date.UTC(2025, 1, 14, 8, 43, 20); // Sidekiq 8's own comment: "250214|8:4", "250214|8:43"
    expect(SIDEKIQ8_EXECUTION_METRICS.jobBuckets(at)).toEqual([
      { key: 'j|250214|8:4', ttlSeconds: 3 * 24 * 3600 },
      { key: 'j|250214|8:43', ttlSeconds: 8 * 3600 },
    ]);
    expect(SIDEKIQ8_EXECUTION_METRICS.histogramKey('HardJob', at)).toBe('h|HardJob-14-8:43');
    const early = Date.UTC(2025, 1, 4, 8, 5, 0);
    expect(SIDEKIQ8_EXECUTION_METRICS.jobBuckets(early).map((b) => b.key)).toEqual(['j|250204|8:0', 'j|250204|8:05']);
    expect(SIDEKIQ8_EXECUTION_METRICS.histogramKey('HardJob', early)).toBe('h|HardJob-4-8:5');
    expect(SIDEKIQ7_EXECUTION_METRICS.jobBuckets(early)).toEqual([{ key: 'j|20250204|8:5', ttlSeconds: 8 * 3600 }]);
    expect(SIDEKIQ7_EXECUTION_METRICS.histogramKey('HardJob', early)).toBe('HardJob-04-08:5');
  });

  for (const [peer, layout] of [['sidekiq7', SIDEKIQ7_EXECUTION_METRICS], ['sidekiq8', SIDEKIQ8_EXECUTION_METRICS]] as const) {
    it(`writes ${peer}'s j| hashes and histogram through a real worker, with their TTLs`, async () => {
      const t = await runJobs(peer);
      const want = expectedKeys(layout, 'Fast', t);
      const buckets = await keysLike(t.ns, 'j|*');
      expect(want.buckets.map((b) => [...b].sort())).toContainEqual(buckets);
      for (const [i, key] of buckets.entries()) {
        const fields = await redis.hgetall(`${t.ns}:${key}`);
        expect(Object.keys(fields).sort()).toEqual(['Fast|ms', 'Fast|p', 'Slowpoke|f', 'Slowpoke|p']);
        expect(fields['Fast|p']).toBe('3');
        expect(fields['Slowpoke|p']).toBe('2'); // processed counts failures, as Sidekiq's
        expect(fields['Slowpoke|f']).toBe('2');
        expect(Number(fields['Fast|ms'])).toBeGreaterThanOrEqual(0);
        const ttl = await redis.ttl(`${t.ns}:${key}`);
        const wanted = layout.jobBuckets(t.before).find((b) => (b.key.split('|')[2]!.split(':')[1]!.length) === (key.split('|')[2]!.split(':')[1]!.length))!.ttlSeconds;
        expect(ttl, `TTL of ${key} (#${i})`).toBeGreaterThan(wanted - 60);
        expect(ttl).toBeLessThanOrEqual(wanted);
      }
      // Only successful runs are timed: one histogram, Fast's; the no-op jobs all in bucket 0 (< 20 ms).
      const hist = (await redis.keys(`${t.ns}:*`)).map((k) => k.slice(t.ns.length + 1)).filter((k) => k.includes('Fast-') || k.includes('Slowpoke-'));
      expect(hist).toHaveLength(1);
      expect(want.hist).toContain(hist[0]);
      const counters = await redis.call('BITFIELD', `${t.ns}:${hist[0]}`, 'GET', 'u16', '#0', 'GET', 'u16', '#1', 'GET', 'u16', '#25') as number[];
      expect(counters[0]! + counters[1]!).toBe(3);
      expect(counters[2]).toBe(0);
      const httl = await redis.ttl(`${t.ns}:${hist[0]}`);
      expect(httl).toBeGreaterThan(8 * 3600 - 60);
      expect(httl).toBeLessThanOrEqual(8 * 3600);
    });
  }

  // The captured command streams of real Sidekiq 7.3.10 and 8.1.7 (fixtures/) are the oracle:
  // the same jobs counted, flushed at the moment Sidekiq flushed, give the same keys, fields,
  // histogram counters and TTLs.
  for (const [set, layout] of [['sidekiq-7.3.10', SIDEKIQ7_EXECUTION_METRICS], ['sidekiq-8.1.7', SIDEKIQ8_EXECUTION_METRICS]] as const) {
    for (const scenario of ['worker-success', 'worker-failure-retry']) {
      it(`writes what ${set} wrote in ${scenario} (its first flush, replayed)`, async () => {
        const all = fixture(`${set}/${scenario}`).commands.map((c) => ({ t: c.t, argv: argvStrings(c) }));
        const isMetric = (a: string[]) => a[0] === 'bitfield' || (a[0] === 'hincrby' && a[1]!.startsWith('j|'));
        const first = all.find((c) => isMetric(c.argv))!;
        const flush = all.filter((c) => c.t - first.t < 0.05 && c.t >= first.t);
        const metricKeys = new Set(flush.filter((c) => isMetric(c.argv)).map((c) => c.argv[1]!));
        const hashes = new Map<string, Record<string, number>>();
        const ttls = new Map<string, number>();
        const bits = new Map<string, Map<number, number>>();
        for (const { argv } of flush) {
          if (argv[0] === 'hincrby') {
            const h = hashes.get(argv[1]!) ?? {};
            h[argv[2]!] = (h[argv[2]!] ?? 0) + Number(argv[3]);
            hashes.set(argv[1]!, h);
          } else if (argv[0] === 'bitfield') {
            const m = bits.get(argv[1]!) ?? new Map<number, number>();
            for (let i = 4; i < argv.length; i += 4) m.set(Number(argv[i + 2]!.slice(1)), Number(argv[i + 3]));
            bits.set(argv[1]!, m);
          } else if (argv[0] === 'expire' && metricKeys.has(argv[1]!)) ttls.set(argv[1]!, Number(argv[2]));
        }
        // The jobs behind those counts, told to the tracker as the engine tells them.
        const ns = uniqueNamespace('skm');
        const tracker = new SidekiqExecutionMetrics(redis, new KeyLayout(ns), layout, 3_600_000, silent);
        await tracker.start();
        try {
          const [bucket, fields] = [...hashes][0]!;
          expect(bucket.startsWith('j|')).toBe(true);
          for (const key of Object.keys(fields)) {
            const [cls, metric] = key.split('|') as [string, string];
            if (metric !== 'p') continue;
            const failed = fields[`${cls}|f`] ?? 0;
            const succeeded = fields[key]! - failed;
            for (let i = 0; i < failed; i++) tracker.jobEnded('default', cls, 1, 'retry');
            const ms = fields[`${cls}|ms`] ?? 0;
            for (let i = 0; i < succeeded; i++) {
              const d = i === 0 ? ms - Math.floor(ms / succeeded) * (succeeded - 1) : Math.floor(ms / succeeded);
              tracker.jobEnded('default', cls, d, undefined);
            }
          }
          await tracker.flush(Math.floor(first.t * 1000));
          const written = (await redis.keys(`${ns}:*`)).map((k) => k.slice(ns.length + 1)).sort();
          expect(written).toEqual([...metricKeys].sort());
          for (const [key, want] of hashes) {
            const got = await redis.hgetall(`${ns}:${key}`);
            expect(Object.fromEntries(Object.entries(got).map(([f, v]) => [f, Number(v)]))).toEqual(want);
          }
          for (const [key, counters] of bits) {
            for (const [i, n] of counters) {
              const [got] = await redis.call('BITFIELD', `${ns}:${key}`, 'GET', 'u16', `#${i}`) as number[];
              expect(got, `${key} #${i}`).toBe(n);
            }
          }
          for (const [key, ttl] of ttls) {
            const got = await redis.ttl(`${ns}:${key}`);
            expect(got, `TTL of ${key}`).toBeGreaterThan(ttl - 60);
            expect(got).toBeLessThanOrEqual(ttl);
          }
        } finally {
          await tracker.stop();
          await dropNamespace(redis, ns);
        }
      });
    }
  }

  it('writes none for Sidekiq 6 (no Metrics page), or when turned off; refuses it for other peers', async () => {
    let ran = 0;
    worker = testWorker({ peer: 'sidekiq6', handlers: { Fast: () => { ran++; } } });
    await redis.lpush(worker.keys.queue('default'), JSON.stringify({ class: 'Fast', args: [], queue: 'default', jid: 'a'.repeat(24), retry: true, created_at: 1, enqueued_at: 1 }));
    await worker.start();
    await until(() => ran === 1, 'the job ran');
    await worker.stop();
    expect(await keysLike(worker.config.namespace!, 'j|*')).toEqual([]);
    expect(resolveConfig({ api: { peer: 'sidekiq8', sidekiqMetrics: false } }).sidekiqMetrics).toBe(false);
    expect(resolveConfig({ api: { peer: 'sidekiq7' } }).sidekiqMetrics).toBe(true);
    expect(() => resolveConfig({ api: { peer: 'verk', sidekiqMetrics: true } })).toThrow(ConfigError);
  });
});
