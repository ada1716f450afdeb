/**
 * Issue 17, live: Rails ActiveJob 6.1 (Debian's ruby-activejob, ruby-globalid) with a real
 * Sidekiq 6.4.1, on a private redis-server.
 *
 * - Rails → kiqgate: `perform_later` with every argument type ActiveJob 6.1 serializes, keyword
 *   arguments, set(wait:) and set(queue:) run in a kiqgate worker with the exact values.
 * - kiqgate → Rails: the handler passes the values it received straight back to
 *   `enqueue({ activeJob })`; the Ruby `perform` receives exactly what it received when Rails
 *   enqueued the same arguments itself (class, inspect, keyword flag, key classes, zone...).
 * - retry_on: a job failing in kiqgate is re-enqueued as Rails would (into schedule, executions
 *   and the counter incremented, provider_job_id the failed jid) and a Ruby worker runs it.
 *
 * Without Ruby's ActiveJob every test fails with the install hint (never skipped).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Client } from '../../src/client/index.js';
import { type HandlerTable, Worker } from '../../src/engine/index.js';
import type { NativeJson } from '../../src/wire/index.js';
import type { JobContext } from '../../src/engine/registry.js';
import {
  AjDate, AjDuration, AjFloat, AjGlobalId, AjModule, AjSymbol, AjTime, type ActiveJobEnvelope, aj,
} from '../../src/wire/activejob/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { ACTIVEJOB_JOBS_RB, ACTIVEJOB_PRODUCER_RB, RUBY_DIR, requireRubySidekiq, startSidekiq, waitFor, type SidekiqProcess } from './sidekiq.js';

const INSTALL = 'run .ci/run or `bash compat/install-ruby-sidekiq.sh` (as root): it installs ruby-sidekiq, ruby-activejob and ruby-globalid';

function requireActiveJob(): string {
  requireRubySidekiq();
  try {
    return execFileSync('ruby', ['-e', 'require "active_job"; require "global_id"; print ActiveJob::VERSION::STRING'], { encoding: 'utf8' });
  } catch {
    throw new Error(`Ruby's ActiveJob / GlobalID are not installed: ${INSTALL}`);
  }
}

let server: RedisServerHandle | undefined;
let sidekiq: SidekiqProcess | undefined;
let redis: Redis;
let client: Client;
let setupError: unknown;

beforeAll(async () => {
  try {
    const v = requireActiveJob();
    if (!v.startsWith('6.1.')) throw new Error(`these live tests expect ActiveJob 6.1, found ${v}`);
  } catch (err) {
    setupError = err;
    return;
  }
  server = await startRedisServer();
  redis = new Redis(server.url);
  client = new Client({ redis: server.url });
  sidekiq = await startSidekiq({
    redisUrl: server.url, queues: ['rb'], concurrency: 3, shutdownTimeoutS: 5, require: ACTIVEJOB_JOBS_RB,
    env: { COMPAT_POLL_INTERVAL_AVERAGE: '1' },
  });
}, 60_000);

beforeEach(() => {
  if (setupError) throw setupError;
});

afterAll(async () => {
  await sidekiq?.stop();
  await client?.close();
  redis?.disconnect();
  await server?.stop();
});

const diagnostics = () => `--- sidekiq log tail ---\n${sidekiq?.logTail() ?? '(not started)'}`;

/** What Ruby's perform recorded for a tag (compat/ruby/activejob_setup.rb). */
async function rubyReceived(tag: string): Promise<Record<string, unknown>> {
  const raw = await waitFor(() => redis.hget('aj:received', tag), { what: `Ruby's perform of ${tag}`, diagnostics, timeoutMs: 40_000 });
  return JSON.parse(raw) as Record<string, unknown>;
}

function startWorker(handlers: HandlerTable, queues: Record<string, number>): Worker {
  return new Worker({
    redis: server!.url, queues, handlers, sidekiqHeartbeat: false, pollIntervalMs: 200, shutdownTimeoutMs: 2000, logger: pino({ level: 'silent' }),
  });
}

describe('Rails ActiveJob ↔ kiqgate, live', () => {
  it('runs perform_later jobs with exact values, and its values sent back reach Ruby\'s perform as Rails\' own', async () => {
    const seen = new Map<string, { args: unknown[]; env: ActiveJobEnvelope }>();
    const worker = startWorker({
      AjRecordJob: async (args: NativeJson[], ctx: JobContext) => {
        const [tag, ...rest] = args as unknown[];
        seen.set(tag as string, { args: rest, env: ctx.activeJob! });
        // Straight back, to the Ruby worker's queue: what the handler received is what it sends.
        await client.enqueue({ activeJob: 'AjRecordJob', args: [`${tag as string}-via-kiqgate`, ...rest], queue: 'rb' });
      },
    }, { kq: 2, kq2: 1 });
    await worker.start();
    try {
      const r = spawnSync('ruby', [ACTIVEJOB_PRODUCER_RB], { cwd: RUBY_DIR, env: { ...process.env, REDIS_URL: server!.url, QUEUE: 'kq', DIRECT: 'rb' }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const produced = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, { job_id: string; provider_job_id: string }>;
      await waitFor(() => seen.size === 5, { what: 'the five Rails jobs in kiqgate', diagnostics, timeoutMs: 30_000 });

      const types = seen.get('types')!;
      const a = types.args;
      expect(a.slice(0, 9)).toEqual([null, true, false, 'str ü 😀 \u2028 "q" \\', 42, -7, 2n ** 70n, -(2n ** 63n), 1.5]);
      expect(a[9]).toBeInstanceOf(AjFloat);
      expect(Object.is((a[9] as AjFloat).value, -0)).toBe(true);
      expect([(a[10] as AjFloat).token, (a[11] as AjFloat).token, a[12]]).toEqual(['2.0', '1.0e+20', 1.5e-5]);
      expect(a[13]).toBe('0.123e1'); // 6.1 writes a BigDecimal as its text: Ruby's perform gets a String too
      expect(a[14]).toEqual(new AjSymbol('pending'));
      expect(a[15]).toEqual(new AjDate('2024-02-29'));
      expect(a[16]).toEqual(new AjTime('2024-01-02T03:04:05.123456789Z', 'Time'));
      expect(a[17]).toEqual(new AjTime('2024-01-02T03:04:05.500000000+09:00', 'Time'));
      expect(a[18]).toEqual(new AjTime('2024-01-02T03:04:05.000000000+01:00', 'DateTime'));
      expect(a[19]).toEqual(new AjTime('2024-01-02T03:04:05.000000000+09:00', 'ActiveSupport::TimeWithZone'));
      expect(a[20]).toEqual(new AjDuration(183600, [['days', 2], ['hours', 3]]));
      expect((a[21] as AjDuration).seconds).toEqual(new AjFloat(5400, '5400.0'));
      expect(a[22]).toEqual(new AjModule('Comparable'));
      expect(a[23]).toEqual(new AjGlobalId('gid://kiqapp/Person/42'));
      expect((a[23] as AjGlobalId).modelId).toBe('42');
      const h = a[24] as Record<string, unknown>;
      expect(Object.keys(h)).toEqual(['3', 'a', 'b']); // JS order; the Ruby order travels in the mark
      expect(aj.hashInfo(h)).toEqual({ mark: 'symbol_keys', symbolKeys: ['a'], order: ['a', 'b', '3'] });
      expect(aj.hashInfo(a[26] as object)?.mark).toBe('indifferent');
      expect(types.env).toMatchObject({ job_class: 'AjRecordJob', job_id: produced.types!.job_id, provider_job_id: produced.types!.provider_job_id, executions: 1, queue_name: 'kq', locale: 'en', timezone: 'UTC' });
      const kw = seen.get('kwargs')!.args;
      expect(kw[0]).toBe(1);
      expect(aj.isKwargs(kw[1] as object)).toBe(true);
      expect(seen.get('wait')!.env.job_id).toBe(produced.wait!.job_id);
      expect(seen.get('queue2')!.env).toMatchObject({ queue_name: 'kq2', priority: 7 });

      // Ruby's perform: the values kiqgate sent back against the same values Rails sent itself.
      for (const tag of ['types', 'kwargs', 'positional-hash']) {
        const direct = await rubyReceived(`${tag}-direct`);
        const via = await rubyReceived(`${tag}-via-kiqgate`);
        expect(via.args, tag).toEqual(direct.args);
        expect(via.kwargs, tag).toEqual(direct.kwargs);
      }
      expect((await rubyReceived('kwargs-via-kiqgate')).kwargs).toEqual([[':name', expect.objectContaining({ class: 'String' })], [':count', expect.objectContaining({ class: 'Integer' })]]);
    } finally {
      await worker.stop();
    }
  }, 90_000);

  it('retry_on: a job failing in kiqgate is re-enqueued as Rails would, and a Ruby worker runs it', async () => {
    const envs: ActiveJobEnvelope[] = [];
    const worker = startWorker({
      AjRetryJob: {
        handler: (_args: NativeJson[], ctx: JobContext) => { envs.push(ctx.activeJob!); const e = new Error('flaky'); e.name = 'FlakyError'; throw e; },
        retryOn: [{ errors: ['FlakyError'], wait: 1, attempts: 3, queue: 'rb' }],
      },
    }, { kq: 1 });
    await worker.start();
    try {
      const jid = await client.enqueue({ activeJob: 'AjRetryJob', args: ['retry-on', aj.symbol('x')], queue: 'kq' });
      const ruby = await rubyReceived('retry-on');
      expect(envs).toHaveLength(1);
      expect(ruby).toMatchObject({
        job_id: envs[0]!.job_id, executions: 2, exception_executions: { '[FlakyError]': 1 }, queue_name: 'rb',
        args: [expect.objectContaining({ class: 'Symbol', inspect: ':x' })],
      });
      // Ruby's provider_job_id is the new job's jid: not the failed one's.
      expect(ruby.provider_job_id).not.toBe(jid);
      expect(Number((await redis.get('stat:failed')) ?? 0)).toBe(0); // Sidekiq's heartbeat writes 0
    } finally {
      await worker.stop();
    }
  }, 60_000);
});
