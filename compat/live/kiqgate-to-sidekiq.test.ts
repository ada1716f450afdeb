/**
 * Issue 2, live interop: kiqgate's producer (`Client`, peer sidekiq6) enqueues jobs with awkward
 * args, and a real Sidekiq 6.4.1 worker process (compat/ruby/jobs.rb, RecordJob) runs them. What
 * Ruby received is read back from `compat:received`: the args re-encoded by Ruby's JSON, their
 * Ruby classes (Integer vs Float, String, Hash, Array, NilClass) and the raw string Sidekiq
 * fetched.
 *
 * Real processes only, on a private redis-server. Without Ruby Sidekiq every test fails with the
 * install hint (never skipped). Waits are deadlines on Redis state, never timing assertions.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Client } from '../../src/client/index.js';
import { JsonNumber } from '../../src/wire/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { ATTEMPTS_KEY, readReceived, liveSidekiqProblem, startSidekiq, waitFor, type SidekiqProcess } from './sidekiq.js';

let server: RedisServerHandle | undefined;
let sidekiq: SidekiqProcess | undefined;
let redis: Redis;
let client: Client;
let setupError: unknown;

beforeAll(async () => {
  setupError = liveSidekiqProblem();
  if (setupError) return;
  server = await startRedisServer();
  redis = new Redis(server.url);
  client = new Client({ redis: server.url, peer: 'sidekiq6' });
  // A poll interval of 1 s, so the scheduled job is promoted within seconds (not 10-15 s).
  sidekiq = await startSidekiq({
    redisUrl: server.url, queues: ['default', 'critical'], concurrency: 3, shutdownTimeoutS: 5,
    env: { COMPAT_POLL_INTERVAL_AVERAGE: '1' },
  });
});

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

function received(jid: string) {
  return waitFor(() => readReceived(redis, jid), { what: `job ${jid} in compat:received`, diagnostics, timeoutMs: 40_000 });
}

const LONG = 'long-'.repeat(20_000); // 100,000 characters
const PROTO_ARG = JSON.parse('{"__proto__":{"x":1}}') as Record<string, unknown>;

/**
 * The awkward args: the value given to kiqgate's Client, the JSON Ruby's `JSON.generate` writes
 * for what Ruby received (UTF-8 raw, `1.0` kept, big Integers exact), and Ruby's class tree as
 * JSON text (a JS literal cannot hold an own `__proto__` key).
 */
const AWKWARD: Array<{ value: () => unknown; json: string; type: string }> = [
  { value: () => 2n ** 62n, json: '4611686018427387904', type: '"Integer"' },
  { value: () => -(2n ** 63n), json: '-9223372036854775808', type: '"Integer"' },
  { value: () => new JsonNumber('1.0'), json: '1.0', type: '"Float"' },
  { value: () => 1, json: '1', type: '"Integer"' },
  ...['emoji 😀 and 👩‍👩‍👧', 'combining e\u0301 a\u0308', 'line\u2028separator\u2029para'].map((v) => ({
    value: () => v, json: JSON.stringify(v), type: '"String"',
  })),
  {
    value: () => ({ nested: { a: [null, true, { deeper: { k: 'v' } }], n: -0.5 } }),
    json: '{"nested":{"a":[null,true,{"deeper":{"k":"v"}}],"n":-0.5}}',
    type: '{"Hash":{"nested":{"Hash":{"a":{"Array":["NilClass","TrueClass",{"Hash":{"deeper":{"Hash":{"k":"String"}}}}]},"n":"Float"}}}}',
  },
  { value: () => [], json: '[]', type: '{"Array":[]}' },
  { value: () => null, json: 'null', type: '"NilClass"' },
  { value: () => LONG, json: JSON.stringify(LONG), type: '"String"' },
  { value: () => PROTO_ARG, json: '{"__proto__":{"x":1}}', type: '{"Hash":{"__proto__":{"Hash":{"x":"Integer"}}}}' },
];

const awkwardArgs = () => AWKWARD.map((a) => a.value());
const EXPECTED_ARGS_JSON = `[${AWKWARD.map((a) => a.json).join(',')}]`;
const EXPECTED_TYPES_JSON = `[${AWKWARD.map((a) => a.type).join(',')}]`;

describe('kiqgate enqueues (peer sidekiq6) → a real Sidekiq 6.4.1 runs', () => {
  it('delivers the awkward args exactly, as Ruby values of the right classes', async () => {
    const jid = await client.enqueue({ class: 'RecordJob', args: awkwardArgs() });
    expect(jid).toMatch(/^[0-9a-f]{24}$/);
    const rec = await received(jid);

    expect(rec.class).toBe('RecordJob');
    expect(rec.queue).toBe('default');
    expect(rec.args_json).toBe(EXPECTED_ARGS_JSON);
    expect(JSON.stringify(rec.types)).toBe(EXPECTED_TYPES_JSON);
    // args.inspect: the digits of the big Integers, 1.0 a Float, 1 an Integer.
    expect(rec.args_inspect.startsWith('[4611686018427387904, -9223372036854775808, 1.0, 1, "emoji 😀')).toBe(true);
    expect(rec.args_inspect).toContain('{"__proto__"=>{"x"=>1}}');
    expect(rec.encoding).toEqual(['UTF-8']);
    // The bytes Sidekiq fetched are the bytes kiqgate wrote, in Sidekiq 6's key order.
    expect(rec.raw_payload.startsWith(`{"retry":true,"queue":"default","class":"RecordJob","args":${EXPECTED_ARGS_JSON},"jid":"${jid}","created_at":`)).toBe(true);
    expect(rec.created_at_class).toBe('Float');
    expect(rec.enqueued_at_class).toBe('Float');
    expect(rec.retry_count).toBeNull();
    expect(await redis.hget(ATTEMPTS_KEY, jid)).toBe('1');
  });

  it('delivers each awkward arg on its own (one job per value)', async () => {
    const jids = await Promise.all(AWKWARD.map((a) => client.enqueue({ class: 'RecordJob', args: [a.value()] })));
    const recs = await Promise.all(jids.map((j) => received(j)));
    recs.forEach((rec, i) => {
      expect(rec.args_json, `arg ${i}`).toBe(`[${AWKWARD[i]!.json}]`);
      expect(JSON.stringify(rec.types), `arg ${i}`).toBe(`[${AWKWARD[i]!.type}]`);
    });
  });

  it('delivers a scheduled job (in: 1) through the schedule set, promoted by Sidekiq\'s poller', async () => {
    const jid = await client.enqueue({ class: 'RecordJob', args: [2n ** 62n, new JsonNumber('1.0'), 'later ✓'], in: 1 });
    const rec = await received(jid);
    expect(rec.args_json).toBe(`[4611686018427387904,1.0,${JSON.stringify('later ✓')}]`);
    expect(rec.types).toEqual(['Integer', 'Float', 'String']);
    // kiqgate's schedule member had no `at` and no `enqueued_at`; Sidekiq's poller pushed it
    // through Client.push, which set enqueued_at, no earlier than the score (created_at + 1).
    expect(rec.raw_payload).not.toContain('"at":');
    expect(rec.enqueued_at_class).toBe('Float');
    expect(rec.enqueued_at! + 0.001).toBeGreaterThanOrEqual(rec.created_at! + 1);
    expect(await redis.zcard('schedule')).toBe(0);
  });

  it('delivers a bulk push (one created_at, a jid each) to the queue it names', async () => {
    const jids = await client.enqueueBulk({
      class: 'RecordJobCritical',
      queue: 'critical',
      args: [[1], [2n ** 62n], [new JsonNumber('1.0')], [{ k: [] }], [null]],
    });
    expect(jids).toHaveLength(5);
    expect(new Set(jids).size).toBe(5);
    const recs = await Promise.all(jids.map((j) => received(j)));
    expect(recs.map((r) => r.args_json)).toEqual(['[1]', '[4611686018427387904]', '[1.0]', '[{"k":[]}]', '[null]']);
    expect(recs.map((r) => r.types)).toEqual([['Integer'], ['Integer'], ['Float'], [{ Hash: { k: { Array: [] } } }], ['NilClass']]);
    expect(recs.every((r) => r.class === 'RecordJobCritical' && r.queue === 'critical')).toBe(true);
    expect(new Set(recs.map((r) => r.created_at)).size).toBe(1);
  });

  it('delivers a bulk push with a schedule per job', async () => {
    const now = Date.now() / 1000;
    const jids = await client.enqueueBulk({ class: 'RecordJob', args: [['a'], ['b']], at: [now + 1, now + 2] });
    const recs = await Promise.all(jids.map((j) => received(j)));
    expect(recs.map((r) => r.args_json)).toEqual(['["a"]', '["b"]']);
    expect(recs.every((r) => !r.raw_payload.includes('"at":'))).toBe(true);
  });
});
