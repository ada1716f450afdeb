/**
 * Issue 16, live: kiqgate and a real Sidekiq 6.4.1 consume the same queue. kiqgate (5 slots) is
 * busy with 5 slow jobs only it runs (class KiqgateSlowJob); 10 fast RecordJob jobs are pushed
 * afterwards with Sidekiq's own client. kiqgate fetches nothing while no slot is free, so:
 * - the 10 wait in `queue:both`, where `Sidekiq::Stats#enqueued` and the queue page count them,
 *   and the WorkSet lists kiqgate's 5 running jobs (nothing is held out of sight);
 * - a Sidekiq started then runs all 10 (each side records who ran a job: Ruby's RecordJob in
 *   compat:received with its pid, kiqgate's handler in `shared:kiqgate-ran`), none by kiqgate;
 * - with Sidekiq running, 10 more pushed while kiqgate is still busy also all go to Sidekiq.
 *
 * The issue's figure ("within 2 s") is measured and logged (push or boot to the last run, from
 * the records' own clocks), never asserted: waits are deadlines on Redis state.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Worker } from '../../src/engine/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { RECEIVED_KEY, liveSidekiqProblem, runRubyApi, runRubyProducer, startSidekiq, waitFor, type ReceivedRecord, type SidekiqProcess } from './sidekiq.js';

const QUEUE = 'both';
const KIQGATE_RAN = 'shared:kiqgate-ran';

let server: RedisServerHandle | undefined;
let redis: Redis;
let url: string;
let worker: Worker | undefined;
let sidekiq: SidekiqProcess | undefined;
let setupError: unknown;
let release: () => void = () => undefined;

beforeAll(async () => {
  setupError = liveSidekiqProblem();
  if (setupError) return;
  server = await startRedisServer();
  url = server.url;
  redis = new Redis(url);
});

beforeEach(() => {
  if (setupError) throw setupError;
});

afterAll(async () => {
  release();
  await sidekiq?.stop();
  await worker?.stop();
  redis?.disconnect();
  await server?.stop();
});

const diagnostics = () => `--- sidekiq log tail ---\n${sidekiq?.logTail() ?? '(not started)'}`;

/** The RecordJob records of `jids` Ruby wrote, once all are there. */
function ranBySidekiq(jids: string[]): Promise<ReceivedRecord[]> {
  return waitFor(async () => {
    const got = await redis.hmget(RECEIVED_KEY, ...jids);
    return got.every((v) => v !== null) ? got.map((v) => JSON.parse(v!) as ReceivedRecord) : undefined;
  }, { what: `${jids.length} RecordJob runs in ${RECEIVED_KEY}`, diagnostics, timeoutMs: 60_000 });
}

const pushFast = async (n: number, tag: string) => (await runRubyProducer(url, [
  { op: 'push_bulk', class: 'RecordJob', queue: QUEUE, args: Array.from({ length: n }, (_, i) => [`${tag}-${i}`]) },
])) as string[];

describe('a queue shared by kiqgate and a real Sidekiq 6.4.1 (issue 16)', () => {
  it('kiqgate busy on 5 slow jobs holds none of the 10 fast ones: Stats#enqueued counts them, Sidekiq runs them all', async () => {
    const gate = new Promise<void>((resolve) => { release = resolve; });
    worker = new Worker({
      redis: url,
      peer: 'sidekiq6',
      queues: { [QUEUE]: 5 },
      shutdownTimeoutMs: 5_000,
      logger: pino({ level: 'silent' }),
      handlers: {
        KiqgateSlowJob: async () => { await gate; },
        // kiqgate can run RecordJob too: were it to hold one, it would run it here, not in Ruby.
        RecordJob: async (_args, ctx) => { await redis.hset(KIQGATE_RAN, ctx.jid!, String(Date.now())); },
      },
    });
    await worker.start();
    await runRubyProducer(url, [{ op: 'push_bulk', class: 'KiqgateSlowJob', queue: QUEUE, args: [[1], [2], [3], [4], [5]] }]);
    await waitFor(() => worker!.running().length === 5, { what: 'kiqgate running the 5 slow jobs' });

    // 1. Pushed while kiqgate is busy and no Sidekiq runs: all 10 wait in the queue, in sight.
    const first = await pushFast(10, 'before-sidekiq');
    await new Promise((r) => setTimeout(r, 2_500)); // past a BLMOVE timeout (2 s): any fetch has had its chance
    expect(await redis.llen(`queue:${QUEUE}`)).toBe(10);
    expect(await redis.llen(`inprogress:${QUEUE}:${worker.nodeId}`)).toBe(5);
    const stats = await runRubyApi(url, { op: 'stats' });
    expect(stats.enqueued).toBe(10);
    expect(stats.queues).toEqual({ [QUEUE]: 10 });
    const page = await runRubyApi(url, { op: 'queue', name: QUEUE });
    expect(page.entries.map((e) => e.jid).sort()).toEqual([...first].sort());
    const work = await waitFor(async () => {
      const w = await runRubyApi(url, { op: 'work_set' });
      return w.size === 5 ? w : undefined;
    }, { what: "kiqgate's 5 running jobs in Sidekiq's WorkSet" });
    expect(new Set(work.entries.map((e) => e.class))).toEqual(new Set(['KiqgateSlowJob']));

    // 2. A real Sidekiq starts on the same queue: it runs all 10.
    const spawnedAtMs = Date.now();
    sidekiq = await startSidekiq({ redisUrl: url, queues: [QUEUE], concurrency: 5, shutdownTimeoutS: 5 });
    const firstRuns = await ranBySidekiq(first);
    expect(new Set(firstRuns.map((r) => r.pid))).toEqual(new Set([sidekiq.pid]));

    // 3. With Sidekiq running and kiqgate still busy, 10 more pushed: Sidekiq runs them all.
    const second = await pushFast(10, 'with-sidekiq');
    const secondRuns = await ranBySidekiq(second);
    expect(new Set(secondRuns.map((r) => r.pid))).toEqual(new Set([sidekiq.pid]));

    expect(await redis.hlen(KIQGATE_RAN)).toBe(0);
    expect(worker.running()).toHaveLength(5);
    expect(await redis.llen(`inprogress:${QUEUE}:${worker.nodeId}`)).toBe(5);
    // The figure, measured (not asserted): kiqgate used to hold 5 of the 10 for 42.8 s.
    // Clocks: recorded_at is Ruby's Time.now at the run, enqueued_at Sidekiq's client's (same host).
    const lastRunMs = Math.max(...firstRuns.map((r) => r.recorded_at * 1000));
    const worstWaitMs = Math.max(...secondRuns.map((r) => (r.recorded_at - r.enqueued_at!) * 1000));
    console.log(`[issue 16] 10 fast jobs waiting when Sidekiq was spawned: the last ran ${(lastRunMs - spawnedAtMs).toFixed(0)} ms after the spawn (boot included)`);
    console.log(`[issue 16] 10 fast jobs pushed with Sidekiq running, kiqgate busy: longest enqueue-to-run ${worstWaitMs.toFixed(0)} ms`);

    // 4. Released, kiqgate finishes its 5; nothing ran twice, nothing is left.
    release();
    await waitFor(async () => (await redis.llen(`inprogress:${QUEUE}:${worker!.nodeId}`)) === 0 && worker!.running().length === 0, { what: "kiqgate's slow jobs acked" });
    expect(await redis.llen(`queue:${QUEUE}`)).toBe(0);
    const attempts = await redis.hgetall('compat:attempts');
    expect(Object.keys(attempts).sort()).toEqual([...first, ...second].sort());
    expect(Object.values(attempts).every((n) => n === '1')).toBe(true);
  });
});
