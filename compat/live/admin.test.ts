/**
 * The admin CLI and API against a real Sidekiq 6.4.1 on the same Redis (issue 18, item 1):
 * retry entries written by the real Sidekiq server (FailJob), jobs and scheduled jobs pushed by
 * the real Ruby client, then
 * - `kiqgate stats` and `kiqgate queues` give the numbers Sidekiq::Stats and Sidekiq::Queue give
 *   (latency allowing for time passing: within the window between the two reads' timestamps);
 * - `kiqgate retries retry JID` pushes the bytes Sidekiq's own SortedEntry#retry pushes for the
 *   same entry (enqueued_at aside), kill/dead retry --all/delete are seen by Ruby's API;
 * - `kiqgate processes quiet|stop` are obeyed by the real Sidekiq process.
 *
 * Real processes only: a private redis-server, the kiqgate CLI, Ruby. Without Ruby Sidekiq the
 * test fails with the install hint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { runCli } from '../../test/support/cli.js';
import { requireRubySidekiq, runRubyApi, runRubyProducer, startSidekiq, waitFor } from './sidekiq.js';

let server: RedisServerHandle;
let redis: Redis;
let url: string;
/** jids of the retry entries the real Sidekiq wrote. */
let failed: string[] = [];

const cli = async (...args: string[]) => {
  const r = await runCli([...args, '--redis', url]);
  if (r.code !== 0) throw new Error(`kiqgate ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
};
const cliJson = async <T>(...args: string[]) => JSON.parse(await cli(...args, '--json')) as T;

beforeAll(async () => {
  const version = requireRubySidekiq();
  if (version !== '6.4.1') throw new Error(`this live test expects sidekiq 6.4.1, found ${version}`);
  server = await startRedisServer();
  url = server.url;
  redis = new Redis(url);
  const sidekiq = await startSidekiq({ redisUrl: url, queues: ['rbfail'], concurrency: 2, shutdownTimeoutS: 2 });
  try {
    failed = (await runRubyProducer(url, [0, 1, 2, 3].map((i) => ({ op: 'push' as const, class: 'FailJob', queue: 'rbfail', args: [i, 'ruby', 2n ** 62n] })))) as string[];
    await waitFor(async () => (await redis.zcard('retry')) === 4, { what: '4 FailJob entries in retry', diagnostics: () => sidekiq.logTail() });
  } finally {
    await sidekiq.stop();
  }
  // Waiting jobs and scheduled ones, pushed by Ruby's client while no server runs.
  await runRubyProducer(url, [
    { op: 'push', class: 'RecordJob', args: [1] },
    { op: 'push', class: 'RecordJob', args: [2], queue: 'other' },
    { op: 'push', class: 'RecordJob', args: [3], at: Date.now() / 1000 + 3600 },
  ]);
  await new Promise((r) => setTimeout(r, 50)); // a latency above zero
}, 120_000);

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

/** Asserts a latency read at `atMs` by kiqgate agrees with Ruby's, read between `t0` and `t1`. */
function sameLatency(ours: { latency: number; measuredAtMs: number }, ruby: number, t0: number, t1: number): void {
  // ruby = nowRuby − E and ours = atMs − E, so nowRuby = ruby − ours + atMs must lie in [t0, t1].
  const rubyNow = (ruby - ours.latency) * 1000 + ours.measuredAtMs;
  expect(rubyNow).toBeGreaterThanOrEqual(t0 - 1);
  expect(rubyNow).toBeLessThanOrEqual(t1 + 1);
  expect(ours.latency).toBeGreaterThan(0);
}

describe('kiqgate stats and queues against Sidekiq::Stats and Sidekiq::Queue', () => {
  it('reports the same counters, sizes and default latency', async () => {
    const ours = await cliJson<Record<string, number>>('stats');
    const t0 = Date.now();
    const ruby = await runRubyApi(url, { op: 'stats' });
    const t1 = Date.now();
    expect({
      processed: ours.processed, failed: ours.failed, enqueued: ours.enqueued, retry_size: ours.retrySize, dead_size: ours.deadSize,
      scheduled_size: ours.scheduledSize, processes_size: ours.processesSize, workers_size: ours.workersSize,
    }).toEqual({
      processed: ruby.processed, failed: ruby.failed, enqueued: ruby.enqueued, retry_size: ruby.retry_size, dead_size: ruby.dead_size,
      scheduled_size: ruby.scheduled_size, processes_size: ruby.processes_size, workers_size: ruby.workers_size,
    });
    expect(ours.retrySize).toBe(4);
    expect(ours.enqueued).toBe(2);
    sameLatency({ latency: ours.defaultQueueLatency!, measuredAtMs: ours.measuredAtMs! }, ruby.default_queue_latency, t0, t1);
  });

  it('reports each queue\'s size and latency as Sidekiq::Queue does', async () => {
    const ours = await cliJson<Array<{ name: string; size: number; latency: number; measuredAtMs: number }>>('queues');
    expect(ours.map((q) => q.name)).toEqual(['default', 'other', 'rbfail']);
    for (const q of ours) {
      const t0 = Date.now();
      const ruby = await runRubyApi(url, { op: 'queue', name: q.name });
      const t1 = Date.now();
      expect(q.size).toBe(ruby.size);
      if (q.size > 0) sameLatency(q, ruby.latency, t0, t1);
      else expect(ruby.latency).toBe(0);
    }
  });
});

describe('kiqgate retries|dead on entries the real Sidekiq wrote', () => {
  it('lists what Sidekiq::RetrySet holds, byte for byte', async () => {
    const ours = await cliJson<Array<{ jid: string; payload: string; class: string; retry_count: number }>>('retries', 'list');
    const ruby = await runRubyApi(url, { op: 'retry_set' });
    expect(ours.map((e) => e.payload).sort()).toEqual(ruby.entries.map((e) => e.value).sort());
    expect(ours.map((e) => e.jid).sort()).toEqual([...failed].sort());
    expect(ours.every((e) => e.class === 'FailJob' && e.retry_count === 0)).toBe(true);
  });

  it('retries a jid into the bytes Sidekiq\'s own SortedEntry#retry pushes (enqueued_at aside)', async () => {
    const jid = failed[0]!;
    const ruby0 = await runRubyApi(url, { op: 'retry_set' });
    const member = ruby0.entries.find((e) => e.jid === jid)!;
    expect(await cli('retries', 'retry', jid)).toMatch(/^retried 1 of 1 matched/);
    const ours = (await redis.lrange('queue:rbfail', 0, -1));
    expect(ours).toHaveLength(1);
    // Put the entry back as it was and let Ruby's API retry it.
    await redis.del('queue:rbfail');
    await redis.zadd('retry', String(member.score), member.value);
    expect(await runRubyApi(url, { op: 'retry_jid', jid })).toEqual({ found: true });
    const theirs = await redis.lrange('queue:rbfail', 0, -1);
    expect(theirs).toHaveLength(1);
    const strip = (s: string) => s.replace(/"enqueued_at":[0-9.e+]+/, '"enqueued_at":X');
    expect(strip(ours[0]!)).toBe(strip(theirs[0]!));
    expect(JSON.parse(ours[0]!)).toMatchObject({ jid, retry_count: -1 });
    const q = await runRubyApi(url, { op: 'queue', name: 'rbfail' });
    expect(q.entries.map((e) => e.jid)).toEqual([jid]);
    await redis.del('queue:rbfail');
  });

  it('kills a jid into dead with its bytes, which Sidekiq::DeadSet reads; dead retry --all sends it to its queue', async () => {
    const jid = failed[1]!;
    const before = (await runRubyApi(url, { op: 'retry_set' })).entries.find((e) => e.jid === jid)!;
    await cli('retries', 'kill', jid);
    const dead = await runRubyApi(url, { op: 'dead_set' });
    expect(dead.entries.map((e) => e.value)).toEqual([before.value]);
    expect(Math.abs(dead.entries[0]!.score * 1000 - Date.now())).toBeLessThan(60_000);
    const result = await cliJson<{ matched: number; done: number }>('dead', 'retry', '--all', '--class', 'FailJob');
    expect(result).toMatchObject({ matched: 1, done: 1 });
    expect((await runRubyApi(url, { op: 'dead_set' })).size).toBe(0);
    const q = await runRubyApi(url, { op: 'queue', name: 'rbfail' });
    expect(q.entries.map((e) => e.jid)).toEqual([jid]);
    await redis.del('queue:rbfail');
  });

  it('deletes with a filter, and only what it matches', async () => {
    const before = (await runRubyApi(url, { op: 'retry_set' })).size;
    expect(await cliJson<{ matched: number }>('retries', 'delete', '--all', '--queue', 'nosuch')).toMatchObject({ matched: 0 });
    expect((await runRubyApi(url, { op: 'retry_set' })).size).toBe(before);
    expect(await cliJson<{ done: number }>('retries', 'delete', '--all', '--queue', 'rbfail', '--class', 'FailJob')).toMatchObject({ done: before });
    expect((await runRubyApi(url, { op: 'retry_set' })).size).toBe(0);
  });
});

describe('kiqgate processes on a real Sidekiq process', () => {
  it('lists it as ProcessSet does; quiet makes it stopping, stop ends it', async () => {
    const sidekiq = await startSidekiq({ redisUrl: url, queues: ['idle'], concurrency: 3, shutdownTimeoutS: 2 });
    try {
      const procs = await cliJson<Array<{ id: string; pid: number; concurrency: number; queues: string[]; quiet: boolean }>>('processes');
      expect(procs).toEqual([expect.objectContaining({ id: sidekiq.identity, pid: sidekiq.pid, concurrency: 3, queues: ['idle'], quiet: false })]);
      await cli('processes', 'quiet', sidekiq.identity);
      await waitFor(async () => (await runRubyApi(url, { op: 'process_set' })).processes[0]?.stopping, { what: 'Ruby ProcessSet to show the process stopping', diagnostics: () => sidekiq.logTail() });
      expect((await cliJson<Array<{ quiet: boolean }>>('processes'))[0]!.quiet).toBe(true);
      await cli('processes', 'stop', sidekiq.identity);
      await waitFor(() => sidekiq.process.exitCode !== null || sidekiq.process.signalCode !== null, { what: 'the Sidekiq process to exit after stop', diagnostics: () => sidekiq.logTail() });
      expect(await redis.sismember('processes', sidekiq.identity)).toBe(0);
    } finally {
      await sidekiq.stop();
    }
    const missing = await runCli(['processes', 'quiet', sidekiq.identity, '--redis', url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no process/);
  }, 120_000);
});
