/**
 * Issue 15, "nothing kiqgate writes may break a peer's tools", proved with a real Sidekiq 6.4.1.
 *
 * A kiqgate Worker (peer sidekiq6, no handlers) consumes every case of the malformed corpus
 * (fixtures/malformed, the generated 10 MB and 10,000-level cases built by
 * scripts/make-malformed.ts), and its scheduler buries undecodable members of `retry` and
 * `schedule`. Then compat/ruby/dead_ui.rb reads `dead` and `retry` with Sidekiq's DeadSet and
 * RetrySet (klass, display_class, args, display_args, jid, error_message, at of every entry) and
 * renders the Web UI (/, /queues, /morgue, /retries and each entry's own page) through
 * Rack::MockRequest. Every read must succeed, every page must answer 200 and name its entries,
 * and the exact bytes of every undecodable payload must be recoverable from its dead entry.
 *
 * Real processes only: a private redis-server, the Worker, and Ruby. Without Ruby Sidekiq the
 * test fails with the install hint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { CASES } from '../../scripts/make-malformed.js';
import { Worker } from '../../src/engine/index.js';
import { undecodableOriginal } from '../../src/wire/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { type DeadUiReport, requireRubySidekiq, runRubyApi, runRubyDeadUi, waitFor } from './sidekiq.js';

const corpus = CASES.map((c) => ({ name: c.name, code: c.code, bytes: c.bytes() }));
const undecodable = corpus.filter((c) => c.code !== null);
const decodable = corpus.filter((c) => c.code === null);

/** Undecodable members put in `retry` and `schedule` for the scheduler to bury. */
const sched: Array<{ set: 'retry' | 'schedule'; name: string; bytes: Buffer }> = [
  { set: 'retry', name: 'null', bytes: Buffer.from('null') },
  { set: 'retry', name: 'array', bytes: Buffer.from('[1,2,3]') },
  { set: 'retry', name: 'args-number', bytes: corpus.find((c) => c.name === 'args-number')!.bytes },
  { set: 'schedule', name: 'invalid UTF-8', bytes: Buffer.from([0x7b, 0x22, 0xff, 0x00, 0x7d]) },
  { set: 'schedule', name: 'class-number', bytes: corpus.find((c) => c.name === 'class-number')!.bytes },
  { set: 'schedule', name: 'string', bytes: Buffer.from('"just a string"') },
];

function newWorker(url: string, queues: Record<string, number>): Worker {
  return new Worker({
    redis: url,
    peer: 'sidekiq6',
    queues,
    pollIntervalMs: 200,
    shutdownTimeoutMs: 5000,
    blockTimeoutSeconds: 1,
    logger: pino({ level: 'silent' }),
    handlers: {},
  });
}

let server: RedisServerHandle | undefined;
let redis: Redis | undefined;
let report: DeadUiReport | undefined;
let deadMembers: Buffer[] = [];
let setupError: unknown;

beforeAll(async () => {
  try {
    const version = requireRubySidekiq();
    if (version !== '6.4.1') throw new Error(`this live test expects sidekiq 6.4.1, found ${version}`);
    server = await startRedisServer();
    redis = new Redis(server.url);
    const worker = newWorker(server.url, { kq: 1 });
    for (const c of corpus) await redis.lpush('queue:kq', c.bytes);
    const past = Date.now() / 1000 - 60;
    for (const [i, m] of sched.entries()) await redis.zadd(m.set, past + i, m.bytes);
    await worker.start();
    try {
      // Settled: the queue and schedule drained, retry holds only the decodable cases' entries,
      // nothing is in progress. (The dead count is asserted below: identical raw members would
      // collapse into one.)
      let last: unknown;
      await waitFor(async () => {
        const s = {
          dead: await redis!.zcard('dead'), retry: await redis!.zcard('retry'), queued: await redis!.llen('queue:kq'),
          schedule: await redis!.zcard('schedule'), inProgress: (await redis!.keys('inprogress:*')).length,
        };
        last = s;
        return s.retry === decodable.length && s.queued === 0 && s.schedule === 0 && s.inProgress === 0;
      }, { timeoutMs: 30_000, what: `the queue drained and ${decodable.length} retry entries`, diagnostics: () => JSON.stringify(last) });
    } finally {
      await worker.stop();
    }
    deadMembers = await redis.zrangeBuffer('dead', 0, -1);
    report = await runRubyDeadUi(server.url);
  } catch (err) {
    setupError = err;
  }
}, 120_000);

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

function ready(): DeadUiReport {
  if (setupError) throw setupError;
  return report!;
}

describe("Sidekiq 6.4.1's API and Web UI over what kiqgate writes for bad input", () => {
  it('DeadSet and RetrySet iterate every entry and read every field without raising', () => {
    const r = ready();
    for (const name of ['dead', 'retry'] as const) {
      const set = r.sets[name];
      expect(set.error, `${name}: iterating raised`).toBeNull();
      expect(set.iterated, `${name}: entries iterated`).toBe(set.size);
      const broken = set.entries.filter((e) => e.errors.length > 0).map((e) => `${e.value.slice(0, 60)} → ${e.errors.join('; ')}`);
      expect(broken, `${name}: entries whose fields raised`).toEqual([]);
    }
    expect(r.sets.dead.size).toBe(undecodable.length + sched.length);
    expect(r.sets.retry.size).toBe(decodable.length);
    for (const e of r.sets.dead.entries) {
      expect(e.klass).toBe('"Kiqgate::UndecodablePayload"');
      expect(e.jid_raw, e.value.slice(0, 60)).toMatch(/^[0-9a-f]{24}$/);
      expect(e.error_message, e.value.slice(0, 60)).toMatch(/^"(invalid_json|invalid_utf8|invalid_job|too_large)( \([^)]+\))?: /);
      expect(e.at).toBeGreaterThan(Date.now() / 1000 - 600);
    }
    for (const c of decodable) {
      const cls = JSON.parse(c.bytes.toString('utf8')).class as string;
      const e = r.sets.retry.entries.find((x) => x.klass === JSON.stringify(cls));
      expect(e, `${c.name}: retry entry for class ${cls}`).toBeDefined();
      expect(e!.error_message).toContain(`unknown job class '${cls}'`);
    }
  });

  it('the Web UI renders the dashboard, queues, dead and retry lists and every entry page (200, entry named)', () => {
    const r = ready();
    const paths = r.pages.map((p) => p.path.replace(/\/[^/]*-[^/]*$/, '/<score>-<jid>').replace(/\?.*$/, ''));
    for (const p of ['/', '/queues', '/morgue', '/retries']) expect(paths, p).toContain(p);
    expect(r.pages.filter((p) => p.path.startsWith('/morgue/'))).toHaveLength(r.sets.dead.size);
    expect(r.pages.filter((p) => p.path.startsWith('/retries/'))).toHaveLength(r.sets.retry.size);
    const bad = r.pages.filter((p) => p.status !== 200 || !p.mentions || p.error !== null)
      .map((p) => `${p.path.slice(0, 80)}: ${p.error ?? `HTTP ${p.status}`}${p.mentions ? '' : ` (missing ${p.missing.join(', ')})`}`);
    expect(bad).toEqual([]);
  });

  it('the exact bytes of every undecodable payload come back from its dead entry', () => {
    ready();
    const originals = deadMembers.map((m) => undecodableOriginal(m));
    for (const c of [...undecodable, ...sched]) {
      expect(originals.some((o) => o?.equals(c.bytes)), `${c.name}: exact bytes recoverable from dead`).toBe(true);
    }
  });

  // Last: it changes the sets the tests above read.
  it("Sidekiq's Retry on those entries sends them to their queues, and kiqgate fails them back to dead with the bytes kept", async () => {
    ready();
    const before = await redis!.zcard('dead');
    const res = await runRubyApi(server!.url, { op: 'dead_retry_all' });
    expect(res).toEqual({ retried: before, dead_size: 0 });
    // Job-path entries name the queue they came from (kq); the scheduler's name `default`.
    expect((await redis!.llen('queue:kq')) + (await redis!.llen('queue:default'))).toBe(before);
    const worker = newWorker(server!.url, { kq: 1, default: 1 });
    await worker.start();
    try {
      await waitFor(async () => (await redis!.zcard('dead')) === before && (await redis!.llen('queue:kq')) + (await redis!.llen('queue:default')) === 0,
        { timeoutMs: 30_000, what: `${before} entries back in dead` });
    } finally {
      await worker.stop();
    }
    const again = await redis!.zrangeBuffer('dead', 0, -1);
    for (const c of [...undecodable, ...sched]) {
      const m = again.find((d) => undecodableOriginal(d)?.equals(c.bytes));
      expect(m, `${c.name}: exact bytes still recoverable after a round trip through Sidekiq's Retry`).toBeDefined();
      const e = JSON.parse(m!.toString('utf8')) as Record<string, unknown>;
      if (!('code' in c)) expect(e.undecodable_code, c.name).toMatch(/^invalid_/);
      else if (c.name !== 'huge-10mb') expect(e.undecodable_code, c.name).toBe(c.code);
      // The 10 MB case's entry is a third larger, over the 8 MiB limit when fetched again: it is
      // wrapped in turn (undecodableOriginal unwraps down to the original). The others decode.
      if (c.name === 'huge-10mb') expect(e.error_message, c.name).toMatch(/^too_large: payload is \d+ bytes, over the 8388608-byte limit$/);
      else expect(e.error_message, c.name).toBe("unknown job class 'Kiqgate::UndecodablePayload': no handler registered");
    }
    // And Sidekiq still reads and renders all of them.
    const r = await runRubyDeadUi(server!.url);
    expect(r.sets.dead.error).toBeNull();
    expect(r.sets.dead.entries.flatMap((e) => e.errors)).toEqual([]);
    expect(r.pages.filter((p) => p.status !== 200 || !p.mentions).map((p) => p.path)).toEqual([]);
  });
});
