/**
 * A Worker standing in for Resque (peer resque) on the real Redis: head-first consumption,
 * failures in `failed` read the way Resque::Failure.all reads them, Resque's stats, the worker
 * registry while running and after stop, malformed entries kept, opt-in retries.
 * The payloads and entry forms are the fixtures' (Ruby Resque is not installable here).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { Worker, type Handler } from '../../src/engine/index.js';
import { resqueUndecodableOriginal, resqueWorkerId } from '../../src/wire/dialects/resque.js';
import { argvStrings, loadFixture } from '../support/fixtures.js';
import { dropNamespace, TEST_REDIS_URL, testRedis, uniqueNamespace } from '../support/redis.js';
import { until } from '../support/wait.js';
import { silent } from './helpers.js';
import { hostname } from 'node:os';

const redis = testRedis();
const workers: Worker[] = [];
const namespaces: string[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  for (const ns of namespaces.splice(0)) await dropNamespace(redis, ns);
});
afterAll(async () => { await redis.quit(); });

function ns(): string {
  const n = uniqueNamespace('rq');
  namespaces.push(n);
  return n;
}

function worker(namespace: string, handlers: Record<string, Handler | { handler: Handler; retries?: number; retryDelayMs?: number }>, queues: Record<string, number> = { default: 1 }): Worker {
  const w = new Worker({ redis: TEST_REDIS_URL, peer: 'resque', namespace, queues, handlers, logger: silent, shutdownTimeoutMs: 2_000, blockTimeoutSeconds: 1 });
  workers.push(w);
  return w;
}

/** Resque::Failure.all(0, count): LRANGE failed + JSON. */
async function failureAll(namespace: string): Promise<Array<Record<string, unknown>>> {
  return (await redis.lrange(`${namespace}:failed`, 0, -1)).map((e) => JSON.parse(e) as Record<string, unknown>);
}

describe('peer resque: consume', () => {
  it('defaults to the resque namespace and writes no Sidekiq process heartbeat', async () => {
    const w = new Worker({ peer: 'resque', logger: silent });
    expect(w.config.namespace).toBe('resque');
    expect(w.config.sidekiqHeartbeat).toBe(false);
    const c = new Client({ redis: TEST_REDIS_URL, peer: 'resque' });
    expect(c.keys.queues).toBe('resque:queues');
    await c.close();
    expect(() => new Worker({ peer: 'resque', sidekiqHeartbeat: true, logger: silent })).toThrow(/invalid sidekiqHeartbeat .*peer resque does not read Sidekiq's process heartbeat/);
  });

  it('runs jobs head first (Resque LPOPs; producers RPUSH), with the args Resque would pass, and counts them', async () => {
    const n = ns();
    const client = new Client({ redis: TEST_REDIS_URL, peer: 'resque', namespace: n });
    for (let i = 1; i <= 5; i++) await client.enqueue({ class: 'HardJob', args: [i, 'two', 2n ** 64n] });
    await client.close();
    expect(await redis.smembers(`${n}:queues`)).toEqual(['default']);
    const seen: unknown[] = [];
    const w = worker(n, { HardJob: (args) => { seen.push(args); } });
    await w.start();
    await until(() => seen.length === 5 || undefined, 'five jobs run');
    expect(seen.map((a) => (a as unknown[])[0])).toEqual([1, 2, 3, 4, 5]);
    expect((seen[0] as unknown[])[2]).toBe(2n ** 64n);
    await until(async () => (await redis.get(`${n}:stat:processed`)) === '5' || undefined, 'processed 5');
    expect(await redis.get(`${n}:stat:failed`)).toBeNull();
    expect(await redis.llen(`${n}:queue:default`)).toBe(0);
  });

  it('a job given back at a stop goes to the head, where Resque would take it next', async () => {
    const n = ns();
    await redis.rpush(`${n}:queue:default`, '{"class":"Hang","args":[1]}', '{"class":"Hang","args":[2]}');
    let started = 0;
    const w = worker(n, { Hang: (_a, ctx) => { started++; return new Promise((resolve) => ctx.signal.addEventListener('abort', resolve)); } });
    await w.start();
    await until(() => started > 0 || undefined, 'the first job started');
    await w.stop({ force: true });
    expect(await redis.lrange(`${n}:queue:default`, 0, -1)).toEqual(['{"class":"Hang","args":[1]}', '{"class":"Hang","args":[2]}']);
    expect(await redis.keys(`${n}:inprogress:*`)).toEqual([]);
  });
});

describe('peer resque: failures', () => {
  it('writes the failure entry of Resque::Failure::Redis to failed (keys, order, forms), counts processed and failed, and no retry', async () => {
    const n = ns();
    const [theirs] = loadFixture('resque-3.0.0', 'worker-failure').commands.map(argvStrings).filter((a) => a[0] === 'rpush' && a[1] === 'resque:failed').map((a) => a[2]!);
    const payload = '{"class":"FailJob","args":[1,"x",1.0e+20,-0.0,"0.1e17",18446744073709551616]}';
    await redis.rpush(`${n}:queue:default`, payload, '{"class":"OkJob","args":[]}', '{"class":"MissingJob","args":[2]}');
    let runs = 0;
    const w = worker(n, { FailJob: () => { runs++; throw new RangeError('boom: 1'); }, OkJob: () => undefined });
    await w.start();
    await until(async () => (await redis.llen(`${n}:failed`)) === 2 || undefined, 'two failures');
    const all = await failureAll(n);
    const raw = await redis.lrange(`${n}:failed`, 0, -1);
    const t = JSON.parse(theirs!) as Record<string, unknown>;
    for (const e of all) expect(Object.keys(e)).toEqual(Object.keys(t));
    expect(raw[0]).toContain(`"payload":${payload},`); // the bytes verbatim: big integer, float forms, Oj string
    expect(all[0]).toMatchObject({ exception: 'RangeError', error: 'boom: 1', queue: 'default', worker: resqueWorkerId(hostname(), process.pid, ['default']) });
    expect(all[0]!.failed_at).toMatch(/^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} \S+$/);
    expect(Array.isArray(all[0]!.backtrace)).toBe(true);
    expect((all[0]!.backtrace as string[]).every((l) => typeof l === 'string')).toBe(true);
    expect(all[1]).toMatchObject({ payload: { class: 'MissingJob', args: [2] }, exception: 'UnknownJobClass', queue: 'default' });
    expect(runs).toBe(1);
    await until(async () => (await redis.get(`${n}:stat:processed`)) === '3' || undefined, 'processed 3 (failures count)');
    expect(await redis.get(`${n}:stat:failed`)).toBe('2');
    const id = all[0]!.worker as string;
    expect(await redis.get(`${n}:stat:failed:${id}`)).toBe('2');
    expect(await redis.get(`${n}:stat:processed:${id}`)).toBe('3');
    expect(await redis.keys(`${n}:retry`)).toEqual([]);
    expect(await redis.keys(`${n}:dead`)).toEqual([]);
    expect(await redis.llen(`${n}:inprogress:default:kiqgate_1`)).toBe(0);
  });

  it('a class that opts in with retries runs again in-process before any failure entry', async () => {
    const n = ns();
    await redis.rpush(`${n}:queue:default`, '{"class":"Flaky","args":[]}', '{"class":"Bad","args":[]}');
    let flaky = 0;
    let bad = 0;
    const w = worker(n, {
      Flaky: { handler: () => { if (++flaky === 1) throw new Error('first time'); }, retries: 2, retryDelayMs: 10 },
      Bad: { handler: () => { bad++; throw new Error('always'); }, retries: 2, retryDelayMs: 10 },
    });
    await w.start();
    await until(async () => (await redis.llen(`${n}:failed`)) === 1 || undefined, 'Bad in failed');
    expect(flaky).toBe(2);
    expect(bad).toBe(3);
    const [e] = await failureAll(n);
    expect(e).toMatchObject({ payload: { class: 'Bad', args: [] }, error: 'always' });
  });
});

describe('the consumer decides the failure entry', () => {
  it('a Resque worker fails a Sidekiq job into failed, its bytes verbatim, the args as Sidekiq wrote them', async () => {
    const n = ns();
    const sidekiqJob = '{"retry":true,"queue":"default","class":"SkJob","args":[1,{"a":2}],"jid":"0123456789abcdef01234567","created_at":1795872486.5,"enqueued_at":1795872486.5}';
    await redis.rpush(`${n}:queue:default`, sidekiqJob);
    let seen: unknown;
    const w = worker(n, { SkJob: (args) => { seen = args; throw new Error('nope'); } });
    await w.start();
    await until(async () => (await redis.llen(`${n}:failed`)) === 1 || undefined, 'the failure in failed');
    expect(seen).toEqual([1, { a: 2 }]);
    const [raw] = await redis.lrange(`${n}:failed`, 0, -1);
    expect(raw).toContain(`"payload":${sidekiqJob},`);
    expect(await redis.keys(`${n}:retry`)).toEqual([]);
  });

  it('a Sidekiq worker fails a Resque job into its retry set: the hash kept, Sidekiq\'s fields appended', async () => {
    const n = ns();
    await redis.lpush(`${n}:queue:default`, '{"class":"RqJob","args":[1]}');
    const w = new Worker({ redis: TEST_REDIS_URL, peer: 'sidekiq7', namespace: n, queues: { default: 1 }, handlers: { RqJob: () => { throw new Error('nope'); } }, logger: silent, blockTimeoutSeconds: 1 });
    workers.push(w);
    await w.start();
    await until(async () => (await redis.zcard(`${n}:retry`)) === 1 || undefined, 'the retry entry');
    const [entry] = await redis.zrange(`${n}:retry`, 0, -1);
    expect(Object.keys(JSON.parse(entry!) as object)).toEqual(['class', 'args', 'retry', 'queue', 'error_message', 'error_class', 'failed_at', 'retry_count']);
    expect(entry!.startsWith('{"class":"RqJob","args":[1],"retry":true,"queue":"default",')).toBe(true);
    expect(await redis.llen(`${n}:failed`)).toBe(0);
  });
});

describe('peer resque: the worker registry', () => {
  it('registers, shows the running job verbatim, beats, and unregisters at stop', async () => {
    const n = ns();
    const payload = '{"class":"Slow","args":[1,"two",4611686018427387904]}';
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const w = worker(n, { Slow: () => gate }, { default: 2, low: 1 });
    await w.start();
    const id = `${hostname()}:${process.pid}:default,low`;
    expect(await redis.smembers(`${n}:workers`)).toEqual([id]);
    expect(await redis.get(`${n}:worker:${id}:started`)).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}$/);
    expect(await redis.hget(`${n}:workers:heartbeat`, id)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/);
    await redis.rpush(`${n}:queue:default`, payload);
    const working = await until(() => redis.get(`${n}:worker:${id}`), 'worker:<id> set');
    expect(working).toMatch(/^\{"queue":"default","run_at":"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z","payload":/);
    expect(working.endsWith(`"payload":${payload}}`)).toBe(true);
    release();
    await until(async () => (await redis.exists(`${n}:worker:${id}`)) === 0 || undefined, 'worker:<id> deleted after the job');
    await until(async () => (await redis.get(`${n}:stat:processed:${id}`)) === '1' || undefined, 'per-worker processed');
    await w.stop();
    expect(await redis.smembers(`${n}:workers`)).toEqual([]);
    expect(await redis.hgetall(`${n}:workers:heartbeat`)).toEqual({});
    expect(await redis.exists(`${n}:worker:${id}:started`, `${n}:worker:${id}`, `${n}:stat:processed:${id}`, `${n}:stat:failed:${id}`)).toBe(0);
    expect(await redis.get(`${n}:stat:processed`)).toBe('1'); // global stats stay, as Resque's
  });
});

describe('peer resque: malformed entries', () => {
  it('keeps what Resque would crash on or drop in failed with its exact bytes, runs what Resque runs, and goes on', async () => {
    const n = ns();
    const shapes = loadFixture('resque-3.0.0', 'malformed-job-shapes').commands.map(argvStrings).filter((a) => a[0] === 'rpush' && a[1] === 'resque:queue:default').map((a) => a[2]!);
    const notJson = loadFixture('resque-3.0.0', 'malformed-job').commands.filter((c) => argvStrings(c)[0] === 'lpush').map((c) => c.argv[2]!)
      .map((v) => (typeof v === 'string' ? Buffer.from(v) : Buffer.from(v.base64, 'base64')));
    await redis.rpush(`${n}:queue:default`, ...shapes, ...notJson);
    const seen: unknown[] = [];
    const w = worker(n, { HardJob: (args) => { seen.push(args); } });
    await w.start();
    const unreadable = ['null', '"just a string"', '{}', '{"args":[1]}', '[1,2]'].map((s) => Buffer.from(s)).concat(notJson);
    await until(async () => (await redis.llen(`${n}:failed`)) === unreadable.length || undefined, 'every unreadable entry in failed');
    await until(() => seen.length === 6 || undefined, 'the six runnable entries ran');
    expect(seen).toEqual([[], ['notarray'], [['a', 1]], ['dashed'], ['extra keys'], ['after the array']]);
    const entries = await redis.lrangeBuffer(`${n}:failed`, 0, -1);
    expect(entries.map((e) => resqueUndecodableOriginal(e))).toEqual(unreadable);
    for (const e of await failureAll(n)) {
      expect(e.exception).toBe('Kiqgate::UndecodablePayload');
      expect(e.error).toMatch(/^invalid_(json|job|utf8)\b[^\n]*$/);
      expect((e.payload as { class: string; args: unknown[] }).class).toBe('Kiqgate::UndecodablePayload');
    }
    expect(await redis.get(`${n}:stat:failed`)).toBe(String(unreadable.length));
    expect(await redis.llen(`${n}:queue:default`)).toBe(0);
  });
});
