/**
 * Proves the live harness itself against a real Sidekiq 6.4.1 and a private redis-server:
 * the Ruby producer's jobs reach the Ruby server with exact values and Ruby types, failures
 * land in `retry`, and the real `sidekiq/api` reads processes, work, stats and the sets.
 *
 * Only real Redis state and real process output are asserted; waits are deadlines that fail
 * clearly, never timing assertions. Without Ruby Sidekiq every test fails (it is not skipped)
 * with the command that installs it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import {
  ATTEMPTS_KEY,
  readReceived,
  liveSidekiqProblem,
  runRubyApi,
  runRubyProducer,
  startSidekiq,
  waitFor,
  type SidekiqProcess,
} from './sidekiq.js';

let server: RedisServerHandle | undefined;
let sidekiq: SidekiqProcess | undefined;
let redis: Redis;
let url: string;

// A missing Ruby fails every test (beforeEach), rather than leaving them reported as skipped.
let setupError: unknown;

beforeAll(async () => {
  setupError = liveSidekiqProblem();
  if (setupError) return;
  server = await startRedisServer();
  url = server.url;
  redis = new Redis(url);
  sidekiq = await startSidekiq({ redisUrl: url, queues: ['default', 'critical'], concurrency: 3, shutdownTimeoutS: 5 });
});

beforeEach(() => {
  if (setupError) throw setupError;
});

afterAll(async () => {
  await sidekiq?.stop();
  redis?.disconnect();
  await server?.stop();
});

/** Deadline for anything that waits on a heartbeat (every 5 s in 6.4.1), with room for a loaded machine. */
const BEAT_DEADLINE_MS = 40_000;

const diagnostics = () => `--- sidekiq log tail ---\n${sidekiq?.logTail() ?? '(not started)'}`;

async function received(jid: string) {
  return waitFor(() => readReceived(redis, jid), { what: `job ${jid} in compat:received`, diagnostics, timeoutMs: 30_000 });
}

/** Waits until `jid` is a member of the zset `key`; returns the raw member and its score. */
async function inZset(key: string, jid: string) {
  return waitFor(
    async () => {
      const flat = await redis.zrange(key, 0, -1, 'WITHSCORES');
      for (let i = 0; i < flat.length; i += 2) {
        const member = flat[i]!;
        if ((JSON.parse(member) as { jid?: string }).jid === jid) return { member, score: Number(flat[i + 1]) };
      }
      return undefined;
    },
    { what: `job ${jid} in the '${key}' zset`, diagnostics, timeoutMs: 30_000 },
  );
}

describe('live harness: real Sidekiq 6.4.1 + real Redis', () => {
  it('runs a RecordJob with awkward args and records exact values and Ruby types', async () => {
    const unicode = 'é😀 combining e\u0301';
    const long = 'x'.repeat(10_000);
    // Raw JSON text: a JS number cannot carry 1.0 or 2**62 exactly.
    const argsText = `[1,1.0,4611686018427387904,-9223372036854775808,${JSON.stringify(unicode)},{"nested":{"a":[null,true]}},[],${JSON.stringify(long)}]`;
    const [jid] = await runRubyProducer(url, `[{"op":"push","class":"RecordJob","args":${argsText}}]`);
    expect(jid).toMatch(/^[0-9a-f]{24}$/);

    const rec = await received(jid!);
    expect(rec.class).toBe('RecordJob');
    expect(rec.queue).toBe('default');
    expect(rec.args_json).toBe(argsText);
    expect(rec.types).toEqual([
      'Integer', 'Float', 'Integer', 'Integer', 'String',
      { Hash: { nested: { Hash: { a: { Array: ['NilClass', 'TrueClass'] } } } } },
      { Array: [] },
      'String',
    ]);
    expect(rec.args_inspect.startsWith('[1, 1.0, 4611686018427387904, -9223372036854775808, ')).toBe(true);
    expect(rec.encoding).toEqual(['UTF-8']);
    // The exact bytes Sidekiq's client wrote and the server fetched: 6.4.1 field order, raw UTF-8.
    expect(rec.raw_payload.startsWith(`{"retry":true,"queue":"default","class":"RecordJob","args":${argsText},"jid":"${jid}","created_at":`)).toBe(true);
    expect(rec.created_at_class).toBe('Float');
    expect(rec.enqueued_at_class).toBe('Float');
    expect(rec.enqueued_at!).toBeGreaterThanOrEqual(rec.created_at!);
    expect(rec.retry_count).toBeNull();
    expect(await redis.hget(ATTEMPTS_KEY, jid!)).toBe('1');
  });

  it('runs push_bulk jobs and a second class on a second queue', async () => {
    const jids = await runRubyProducer(url, [
      { op: 'push_bulk', class: 'RecordJob', args: [[1], [2], [3]] },
      { op: 'push', class: 'RecordJobCritical', args: [2n ** 64n], queue: 'critical' },
    ]);
    expect(jids).toHaveLength(4);
    const bulk = await Promise.all(jids.slice(0, 3).map((j) => received(j!)));
    expect(bulk.map((r) => r.args_json)).toEqual(['[1]', '[2]', '[3]']);
    // push_bulk normalizes once: every job shares created_at (and enqueued_at).
    expect(new Set(bulk.map((r) => r.created_at)).size).toBe(1);
    const critical = await received(jids[3]!);
    expect(critical.class).toBe('RecordJobCritical');
    expect(critical.queue).toBe('critical');
    expect(critical.args_json).toBe('[18446744073709551616]');
    expect(critical.types).toEqual(['Integer']);
  });

  it('puts a failing job in the retry set, where the real API reads it', async () => {
    const [jid] = await runRubyProducer(url, [{ op: 'push', class: 'FailJob', args: ['boom', 7] }]);
    const { member, score } = await inZset('retry', jid!);

    const set = await runRubyApi(url, { op: 'retry_set' });
    const entry = set.entries.find((e) => e.jid === jid);
    expect(entry).toBeDefined();
    expect(entry!.value).toBe(member);
    expect(entry!.score).toBe(score);
    expect(entry!.class).toBe('FailJob');
    expect(entry!.queue).toBe('default');
    expect(entry!.args).toEqual(['boom', 7]);
    expect(entry!.error_class).toBe('RuntimeError');
    expect(entry!.error_message).toBe('compat failure ["boom", 7]');
    expect(entry!.retry_count).toBe(0);
    expect(entry!.retried_at).toBeNull();
    // First retry: failed_at + 0**4 + 15 + rand(10) * 1.
    expect(entry!.score - entry!.failed_at!).toBeGreaterThanOrEqual(15);
    expect(entry!.score - entry!.failed_at!).toBeLessThan(25);
    expect(JSON.parse(member)).toMatchObject({ retry: true, class: 'FailJob', retry_count: 0, error_class: 'RuntimeError' });
  });

  it('retries one entry by jid through the API; the manual retry decrements retry_count', async () => {
    const [jid] = await runRubyProducer(url, [{ op: 'push', class: 'FailOnceJob', args: [{ k: 'v' }] }]);
    await inZset('retry', jid!);
    expect(await runRubyApi(url, { op: 'retry_jid', jid: jid! })).toEqual({ found: true });
    const rec = await received(jid!);
    expect(rec.class).toBe('FailOnceJob');
    expect(rec.args_json).toBe('[{"k":"v"}]');
    // SortedEntry#retry does `retry_count -= 1` ("manual retries should not count"): 0 becomes -1.
    expect(rec.retry_count).toBe(-1);
    expect(JSON.parse(rec.raw_payload)).toMatchObject({ error_class: 'RuntimeError', retry_count: -1 });
    expect(await redis.hget(ATTEMPTS_KEY, jid!)).toBe('2');
    expect(await runRubyApi(url, { op: 'retry_jid', jid: 'f'.repeat(24) })).toEqual({ found: false });
  });

  it('kills a retry entry into the dead set through the API', async () => {
    const [jid] = await runRubyProducer(url, [{ op: 'push', class: 'FailJob', args: ['to-dead'] }]);
    await inZset('retry', jid!);
    expect(await runRubyApi(url, { op: 'kill_jid', jid: jid! })).toEqual({ found: true });
    const dead = await runRubyApi(url, { op: 'dead_set' });
    expect(dead.entries.find((e) => e.jid === jid)).toMatchObject({ class: 'FailJob', args: ['to-dead'], retry_count: 0 });
    const retry = await runRubyApi(url, { op: 'retry_set' });
    expect(retry.entries.find((e) => e.jid === jid)).toBeUndefined();
  });

  it('keeps scheduled jobs in the schedule set and unwatched queues readable', async () => {
    const [scheduled, parked] = await runRubyProducer(url, [
      { op: 'perform_in', class: 'RecordJob', args: ['later'], interval: 3600 },
      { op: 'push', class: 'RecordJob', args: ['parked'], queue: 'parked' },
    ]);
    const sched = await runRubyApi(url, { op: 'schedule_set' });
    const entry = sched.entries.find((e) => e.jid === scheduled);
    expect(entry).toBeDefined();
    expect(entry!.value).not.toContain('"at"');
    expect(entry!.enqueued_at).toBeNull();
    expect(entry!.score - entry!.created_at!).toBeGreaterThan(3599);

    const q = await runRubyApi(url, { op: 'queue', name: 'parked' });
    expect(q.size).toBe(1);
    expect(q.entries.map((e) => e.jid)).toEqual([parked]);
    expect(q.entries[0]!.value).toBe((await redis.lrange('queue:parked', 0, -1))[0]);
  });

  it('lists the running process, its busy count and its work through the API', async () => {
    const proc = sidekiq!;
    const latch = `compat:latch:${Date.now()}`;
    const [jid] = await runRubyProducer(url, [{ op: 'push', class: 'LatchJob', args: [latch, 60] }]);
    try {
      const listed = await waitFor(
        async () => {
          const ps = await runRubyApi(url, { op: 'process_set' });
          const p = ps.processes.find((x) => x.identity === proc.identity);
          return p && p.busy === 1 ? p : undefined;
        },
        { what: 'busy == 1 for the sidekiq process in ProcessSet (heartbeat every 5 s)', diagnostics, timeoutMs: BEAT_DEADLINE_MS },
      );
      expect(listed).toMatchObject({
        pid: proc.pid,
        concurrency: 3,
        queues: ['default', 'critical'],
        quiet: 'false',
        stopping: false,
        tag: '',
        labels: [],
      });
      expect(listed.identity).toBe(`${listed.hostname}:${proc.pid}:${listed.identity.split(':')[2]}`);
      expect(listed.identity.split(':')[2]).toMatch(/^[0-9a-f]{12}$/);

      const work = await runRubyApi(url, { op: 'work_set' });
      const mine = work.entries.find((w) => w.jid === jid);
      expect(mine).toMatchObject({ process: proc.identity, queue: 'default', class: 'LatchJob', args: [latch, 60] });
      expect(Number.isInteger(mine!.run_at)).toBe(true);
      // 6.4.1 keeps busy work under `<identity>:workers` (6.4.2+ renamed it `<identity>:work`).
      expect(await redis.exists(`${proc.identity}:workers`)).toBe(1);
      expect(await redis.exists(`${proc.identity}:work`)).toBe(0);
      const raw = JSON.parse((await redis.hvals(`${proc.identity}:workers`))[0]!) as { payload: unknown };
      expect(typeof raw.payload).toBe('string'); // double-encoded job JSON
    } finally {
      await redis.set(latch, '1');
    }
    await received(jid!);
  }, 90_000);

  it('reports processed and failed counts through Stats once the heartbeat flushes them', async () => {
    const stats = await waitFor(
      async () => {
        const attempts = await redis.hgetall(ATTEMPTS_KEY);
        const runs = Object.values(attempts).reduce((n, v) => n + Number(v), 0);
        const s = await runRubyApi(url, { op: 'stats' });
        return s.processed === runs && s.failed >= 3 ? { s, runs } : undefined;
      },
      { what: 'Stats#processed == the runs counted in compat:attempts (flushed every 5 s)', diagnostics, timeoutMs: BEAT_DEADLINE_MS },
    );
    expect(stats.s.processed).toBeGreaterThanOrEqual(10);
    expect(stats.s.processes_size).toBe(1);
    expect(stats.s.dead_size).toBe(1);
    expect(stats.s.scheduled_size).toBe(1);
    expect(stats.s.queues).toMatchObject({ default: 0, critical: 0, parked: 1 });
    expect(await redis.get('stat:processed')).toBe(String(stats.s.processed));
  }, 90_000);

  it('quiets and stops a process through the API signals in Redis', async () => {
    const other = await startSidekiq({ redisUrl: url, queues: ['other'], concurrency: 1, shutdownTimeoutS: 2 });
    try {
      expect(await runRubyApi(url, { op: 'quiet_process', identity: other.identity })).toEqual({ found: true });
      const quiet = await waitFor(
        async () => {
          const ps = await runRubyApi(url, { op: 'process_set' });
          return ps.processes.find((p) => p.identity === other.identity && p.quiet === 'true');
        },
        { what: 'quiet == "true" after TSTP via <identity>-signals', diagnostics: () => other.logTail(), timeoutMs: BEAT_DEADLINE_MS },
      );
      expect(quiet.stopping).toBe(true);
      expect(await runRubyApi(url, { op: 'stop_process', identity: other.identity })).toEqual({ found: true });
      await waitFor(() => other.process.exitCode !== null || other.process.signalCode !== null, {
        what: 'the sidekiq process to exit after TERM via <identity>-signals',
        diagnostics: () => other.logTail(),
        timeoutMs: BEAT_DEADLINE_MS,
      });
      expect(other.process.exitCode).toBe(0);
      expect(await redis.sismember('processes', other.identity)).toBe(0);
    } finally {
      await other.stop();
    }
  }, 150_000);
});
