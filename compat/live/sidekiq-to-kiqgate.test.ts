/**
 * Issue 3, live interop: Ruby (a real Sidekiq 6.4.1 client, API and server) and a kiqgate Worker
 * (peer sidekiq6) share one private redis-server.
 *
 * - Ruby's client enqueues (now and scheduled); kiqgate runs the jobs with the exact args.
 * - A job kiqgate fails lands in `retry`, Ruby's RetrySet reads it and retry_all sends it back;
 *   kiqgate runs it again. Ruby's API kills a kiqgate retry entry; DeadSet reads and retries it.
 * - Sidekiq::ProcessSet / WorkSet list the kiqgate process and its busy job; Sidekiq::Stats sees
 *   kiqgate's processed/failed counts.
 * - A retry entry written by a real Sidekiq server (FailJob) is promoted and run by kiqgate.
 *
 * Real processes only. Without Ruby Sidekiq every test fails with the install hint.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Client } from '../../src/client/index.js';
import { Worker } from '../../src/engine/index.js';
import type { NativeJson } from '../../src/wire/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { ATTEMPTS_KEY, liveSidekiqProblem, runRubyApi, runRubyProducer, startSidekiq, waitFor } from './sidekiq.js';

interface Run { args: NativeJson[]; retryCount: number | undefined; raw: string; queue: string; className: string }

let server: RedisServerHandle | undefined;
let redis: Redis;
let url: string;
let worker: Worker | undefined;
let setupError: unknown;
const runs = new Map<string, Run[]>();
const failOnceSeen = new Set<string>();
const latches = new Map<string, () => void>();
let kiqgateRuns = 0;
let kiqgateFailures = 0;

class CompatFailure extends Error {
  override name = 'CompatFailure';
}

function record(args: NativeJson[], ctx: { jid: string | undefined; retryCount: number | undefined; job: { raw: Buffer }; queue: string; className: string }) {
  const list = runs.get(ctx.jid!) ?? [];
  list.push({ args, retryCount: ctx.retryCount, raw: ctx.job.raw.toString('utf8'), queue: ctx.queue, className: ctx.className });
  runs.set(ctx.jid!, list);
}

beforeAll(async () => {
  setupError = liveSidekiqProblem();
  if (setupError) return;
  server = await startRedisServer();
  url = server.url;
  redis = new Redis(url);
  worker = new Worker({
    redis: url,
    peer: 'sidekiq6',
    queues: { kq: 3 },
    pollIntervalMs: 500,
    shutdownTimeoutMs: 5000,
    blockTimeoutSeconds: 1,
    logger: pino({ level: 'silent' }),
    handlers: {
      KqRecord: (args, ctx) => { record(args, ctx); },
      KqFailOnce: (args, ctx) => {
        record(args, ctx);
        if (!failOnceSeen.has(ctx.jid!)) {
          failOnceSeen.add(ctx.jid!);
          throw new CompatFailure(`kiqgate failure ${String(args[0])}`);
        }
      },
      KqAlwaysFail: (args, ctx) => {
        record(args, ctx);
        throw new CompatFailure('always');
      },
      KqLatch: async (args, ctx) => {
        record(args, ctx);
        await new Promise<void>((resolve) => latches.set(String(args[0]), resolve));
      },
      // The class a real Sidekiq failed (compat/ruby/jobs.rb); here it succeeds.
      FailJob: (args, ctx) => { record(args, ctx); },
    },
  });
  worker.on('job:finished', () => { kiqgateRuns++; });
  worker.on('job:failed', () => { kiqgateRuns++; kiqgateFailures++; });
  await worker.start();
});

beforeEach(() => {
  if (setupError) throw setupError;
});

afterAll(async () => {
  for (const release of latches.values()) release();
  await worker?.stop();
  redis?.disconnect();
  await server?.stop();
});

/** Deadline for anything that waits on a 5 s heartbeat, with room for a loaded machine. */
const BEAT_DEADLINE_MS = 40_000;

function runsOf(jid: string, n = 1): Promise<Run[]> {
  return waitFor(() => { const r = runs.get(jid); return r && r.length >= n ? r : undefined; }, { what: `${n} kiqgate run(s) of ${jid}`, timeoutMs: 30_000 });
}

async function zsetMember(key: string, jid: string): Promise<{ member: string; score: number } | undefined> {
  const flat = await redis.zrange(key, 0, -1, 'WITHSCORES');
  for (let i = 0; i < flat.length; i += 2) {
    if ((JSON.parse(flat[i]!) as { jid?: string }).jid === jid) return { member: flat[i]!, score: Number(flat[i + 1]) };
  }
  return undefined;
}

const inZset = (key: string, jid: string, diagnostics?: () => string) =>
  waitFor(() => zsetMember(key, jid), { what: `job ${jid} in the '${key}' zset`, timeoutMs: 40_000, ...(diagnostics ? { diagnostics } : {}) });

const LONG = 'ruby→node '.repeat(5_000);

describe('a real Sidekiq 6.4.1 and a kiqgate Worker (peer sidekiq6) on one Redis', () => {
  it('runs what Ruby\'s client enqueued now, with the exact args as JS values', async () => {
    // Raw JSON text: a JS number cannot carry 1.0 or 2**62.
    const argsText = `[4611686018427387904,-9223372036854775808,18446744073709551616,1.0,1,-0.5,${JSON.stringify('é😀 e\u0301 \u2028')},{"nested":{"a":[null,true,false]}},[],null,${JSON.stringify(LONG)},{"__proto__":{"x":1}}]`;
    const [jid] = await runRubyProducer(url, `[{"op":"push","class":"KqRecord","queue":"kq","args":${argsText}}]`);
    const [run] = await runsOf(jid!);
    const args = run!.args;
    expect(args.slice(0, 10)).toEqual([2n ** 62n, -(2n ** 63n), 2n ** 64n, 1, 1, -0.5, 'é😀 e\u0301 \u2028', { nested: { a: [null, true, false] } }, [], null]);
    expect(typeof args[0]).toBe('bigint');
    expect(typeof args[4]).toBe('number');
    expect(args[10]).toBe(LONG);
    const proto = args[11] as Record<string, unknown>;
    expect(Object.keys(proto)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value).toEqual({ x: 1 });
    // The exact bytes Ruby wrote reached the handler (1.0 stays 1.0 in the raw job).
    expect(run!.raw.startsWith(`{"retry":true,"queue":"kq","class":"KqRecord","args":${argsText},"jid":"${jid}",`)).toBe(true);
    expect(run!.retryCount).toBeUndefined();
    expect(run!.queue).toBe('kq');
  });

  it('runs what Ruby\'s client scheduled (perform_in and push with at), promoted by kiqgate\'s scheduler', async () => {
    const [a, b] = await runRubyProducer(url, [
      { op: 'perform_in', class: 'KqRecord', args: ['in', 2n ** 62n], interval: 1, queue: 'kq' },
      { op: 'push', class: 'KqRecord', args: ['at'], queue: 'kq', at: Date.now() / 1000 + 1 },
    ]);
    const [ra] = await runsOf(a!);
    const [rb] = await runsOf(b!);
    expect(ra!.args).toEqual(['in', 2n ** 62n]);
    expect(rb!.args).toEqual(['at']);
    // Promotion added enqueued_at (float seconds), as Sidekiq's Client.push would.
    const doc = JSON.parse(ra!.raw) as { enqueued_at?: unknown; at?: unknown };
    expect(typeof doc.enqueued_at).toBe('number');
    expect(doc.at).toBeUndefined();
    expect(ra!.raw).toMatch(/"enqueued_at":\d+\.\d+/);
    // perform_in(1) went through `schedule`: promoted (enqueued_at set) no earlier than its
    // time, 1 s after Ruby's client computed it (just before created_at).
    const d = JSON.parse(ra!.raw) as { created_at: number; enqueued_at: number };
    expect(d.enqueued_at).toBeGreaterThan(d.created_at + 0.9);
    expect(rb!.raw).not.toContain('"at":');
    expect(await redis.zcard('schedule')).toBe(0);
  });

  it('puts a job kiqgate failed in retry, where Ruby\'s RetrySet reads it; retry_all sends it back and kiqgate runs it again', async () => {
    const [jid] = await runRubyProducer(url, [{ op: 'push', class: 'KqFailOnce', queue: 'kq', args: [2n ** 62n, 'once'] }]);
    const { member, score } = await inZset('retry', jid!);

    const set = await runRubyApi(url, { op: 'retry_set' });
    const entry = set.entries.find((e) => e.jid === jid);
    expect(entry).toBeDefined();
    expect(entry!.value).toBe(member);
    expect(entry!.score).toBeCloseTo(score, 3);
    expect(entry).toMatchObject({
      class: 'KqFailOnce', queue: 'kq', retry_count: 0, retried_at: null,
      error_class: 'CompatFailure', error_message: 'kiqgate failure 4611686018427387904',
    });
    expect(typeof entry!.failed_at).toBe('number');
    // Sidekiq's first-retry delay: 0**4 + 15 + rand(10) * 1 seconds after failed_at.
    expect(entry!.score - entry!.failed_at!).toBeGreaterThanOrEqual(15);
    expect(entry!.score - entry!.failed_at!).toBeLessThan(25);
    expect(member).toContain('"args":[4611686018427387904,"once"]');

    expect(await runRubyApi(url, { op: 'retry_all' })).toEqual({ retried: 1, retry_size: 0 });
    const both = await runsOf(jid!, 2);
    expect(both[1]!.args).toEqual([2n ** 62n, 'once']);
    // RetrySet#retry_all decrements retry_count ("manual retries should not count").
    expect(both[1]!.retryCount).toBe(-1);
    expect(JSON.parse(both[1]!.raw)).toMatchObject({ error_class: 'CompatFailure', retry_count: -1 });
    await waitFor(async () => (await redis.zcard('retry')) === 0 && (await redis.llen('queue:kq')) === 0, { what: 'retry and queue:kq empty after the second run' });
  });

  it('lets Ruby\'s API kill a kiqgate retry entry into dead; DeadSet reads it and retry_all sends it back to kiqgate', async () => {
    const client = new Client({ redis: url, peer: 'sidekiq6' });
    let jid: string;
    try {
      jid = await client.enqueue({ class: 'KqAlwaysFail', queue: 'kq', args: [{ k: -(2n ** 63n) }] });
    } finally {
      await client.close();
    }
    await inZset('retry', jid);
    expect(await runRubyApi(url, { op: 'kill_jid', jid })).toEqual({ found: true });
    const dead = await runRubyApi(url, { op: 'dead_set' });
    const entry = dead.entries.find((e) => e.jid === jid);
    expect(entry).toMatchObject({ class: 'KqAlwaysFail', queue: 'kq', retry_count: 0, error_class: 'CompatFailure', error_message: 'always' });
    expect(entry!.value).toContain('"args":[{"k":-9223372036854775808}]');
    expect(await redis.zcard('retry')).toBe(0);

    expect(await runRubyApi(url, { op: 'dead_retry_all' })).toEqual({ retried: 1, dead_size: 0 });
    const both = await runsOf(jid, 2);
    expect(both[1]!.args).toEqual([{ k: -(2n ** 63n) }]);
    expect(both[1]!.retryCount).toBe(-1);
    // It fails again: back in retry with retry_count 0 (-1 + 1), readable by Ruby.
    await waitFor(async () => {
      const set = await runRubyApi(url, { op: 'retry_set' });
      return set.entries.find((e) => e.jid === jid && e.retry_count === 0 && typeof e.retried_at === 'number');
    }, { what: `the second failure of ${jid} in RetrySet with retry_count 0 and retried_at` });
    // Clean up so the retry entry is not promoted while a Ruby server runs later.
    await runRubyApi(url, { op: 'kill_jid', jid });
  });

  it('is listed by Sidekiq::ProcessSet with its busy count, and its running job by WorkSet', async () => {
    const w = worker!;
    const [jid] = await runRubyProducer(url, [{ op: 'push', class: 'KqLatch', queue: 'kq', args: ['latch-1', 2n ** 62n] }]);
    await runsOf(jid!);
    try {
      const listed = await waitFor(async () => {
        const ps = await runRubyApi(url, { op: 'process_set' });
        const p = ps.processes.find((x) => x.identity === w.identity);
        return p && p.busy === 1 ? p : undefined;
      }, { what: 'busy == 1 for the kiqgate process in Sidekiq::ProcessSet (5 s heartbeat)', timeoutMs: BEAT_DEADLINE_MS });
      expect(listed).toMatchObject({ pid: process.pid, concurrency: 3, queues: ['kq'], quiet: 'false', stopping: false, tag: '', labels: [] });
      expect(listed.identity.split(':')[1]).toBe(String(process.pid));
      expect(typeof listed.beat).toBe('number');
      const work = await runRubyApi(url, { op: 'work_set' });
      const mine = work.entries.find((e) => e.jid === jid);
      expect(mine).toMatchObject({ process: w.identity, queue: 'kq', class: 'KqLatch' });
      expect(mine!.args[0]).toBe('latch-1');
      expect(Number.isInteger(mine!.run_at)).toBe(true);
      expect(work.size).toBe(1);
      // 6.4.1's layout: `<identity>:workers`.
      expect(await redis.exists(`${w.identity}:workers`)).toBe(1);
    } finally {
      latches.get('latch-1')?.();
    }
    await waitFor(async () => {
      const ps = await runRubyApi(url, { op: 'process_set' });
      return ps.processes.find((x) => x.identity === w.identity && x.busy === 0);
    }, { what: 'busy back to 0 after the latch is released', timeoutMs: BEAT_DEADLINE_MS });
  }, 120_000);

  it('has its processed and failed counts read by Sidekiq::Stats', async () => {
    const stats = await waitFor(async () => {
      const s = await runRubyApi(url, { op: 'stats' });
      return s.processed === kiqgateRuns && s.failed === kiqgateFailures ? s : undefined;
    }, { what: `Stats processed == ${kiqgateRuns} and failed == ${kiqgateFailures} (kiqgate's own counts)`, timeoutMs: 20_000 });
    expect(stats.processed).toBeGreaterThanOrEqual(8);
    expect(stats.failed).toBeGreaterThanOrEqual(3);
    expect(stats.processes_size).toBe(1);
    expect(stats.queues).toMatchObject({ kq: 0 });
    const day = new Date().toISOString().slice(0, 10);
    expect(Number(await redis.get(`stat:processed:${day}`))).toBe(stats.processed);
  });

  it('promotes and runs a retry entry that a real Sidekiq server wrote (FailJob)', async () => {
    const sidekiq = await startSidekiq({ redisUrl: url, queues: ['rbfail'], concurrency: 1, shutdownTimeoutS: 2 });
    let jid: string | null | undefined;
    let written: { member: string; score: number };
    try {
      [jid] = await runRubyProducer(url, [{ op: 'push', class: 'FailJob', queue: 'rbfail', args: [2n ** 62n, 'ruby-failed', 1.5] }]);
      written = await inZset('retry', jid!, () => sidekiq.logTail());
    } finally {
      await sidekiq.stop();
    }
    expect(await redis.hget(ATTEMPTS_KEY, jid!)).toBe('1');
    expect(await redis.sismember('processes', sidekiq.identity)).toBe(0);
    expect(JSON.parse(written.member)).toMatchObject({ class: 'FailJob', queue: 'rbfail', retry_count: 0, error_class: 'RuntimeError' });
    // Make the entry due now (same member bytes, new score) rather than wait 15-24 s.
    expect(await redis.zadd('retry', 'XX', 'CH', String(Date.now() / 1000 - 1), written.member)).toBe(1);
    worker!.addQueue('rbfail', 1);
    const [run] = await runsOf(jid!);
    expect(run!.className).toBe('FailJob');
    expect(run!.queue).toBe('rbfail');
    expect(run!.args).toEqual([2n ** 62n, 'ruby-failed', 1.5]);
    expect(run!.retryCount).toBe(0);
    const doc = JSON.parse(run!.raw) as Record<string, unknown>;
    expect(doc).toMatchObject({ jid, class: 'FailJob', retry_count: 0, error_class: 'RuntimeError', error_message: 'compat failure [4611686018427387904, "ruby-failed", 1.5]' });
    // Promotion rewrote only enqueued_at: the rest of Ruby's bytes are unchanged.
    const strip = (s: string) => s.replace(/"enqueued_at":[0-9.e+]+/, '"enqueued_at":X');
    expect(strip(run!.raw)).toBe(strip(written.member));
    expect(await redis.zcard('retry')).toBe(0);
    expect(await redis.hget(ATTEMPTS_KEY, jid!)).toBe('1'); // Ruby never ran it again
  }, 120_000);
});
