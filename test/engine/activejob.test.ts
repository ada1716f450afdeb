/**
 * Rails ActiveJob jobs in the engine, on the real Redis, from the payloads real ActiveJob 6.1 +
 * Sidekiq 6.4.1 wrote (fixtures/activejob-6.1-sidekiq-6.4.1): the ActiveJob class's handler
 * runs with the deserialized arguments and the envelope; retry_on re-enqueues as Rails does
 * (compared with the captured re-enqueue), discard_on swallows, a plain failure is Sidekiq's
 * retry of the wrapper, and an unreadable ActiveJob hash goes to dead with its exact bytes.
 */
import { describe, expect, it } from 'vitest';
import { type Worker } from '../../src/engine/index.js';
import { type NativeJson, decodeJob, stringifyJson, undecodableOriginal } from '../../src/wire/index.js';
import { RAILS_6_1_ARGUMENTS, aj, decodeActiveJob, encodeArguments } from '../../src/wire/activejob/index.js';
import { testRedis } from '../support/redis.js';
import { pushedPayloads, stopWorkerAfterEach, testWorker, until } from './helpers.js';

const SET = 'activejob-6.1-sidekiq-6.4.1';
const redis = testRedis();
let worker: Worker | undefined;
stopWorkerAfterEach(redis, () => worker);

/** A payload with the random parts (jids, timestamps, job_id's enqueued_at) replaced, to compare bytes. */
function stable(payload: string): string {
  return payload
    .replace(/"(jid|provider_job_id)":"[0-9a-f]{24}"/g, '"$1":"J"')
    .replace(/"(created_at|enqueued_at)":[0-9.]+/g, '"$1":T')
    .replace(/"enqueued_at":"[^"]+"/g, '"enqueued_at":"ISO"');
}

class FlakyError extends Error { override name = 'FlakyError'; }

describe('ActiveJob jobs in a kiqgate worker', () => {
  it('runs the ActiveJob class\'s handler with keyword arguments and symbol keys marked, and the envelope', async () => {
    const seen: Array<{ args: unknown[]; env: unknown }> = [];
    const record = (args: NativeJson[], ctx: { activeJob?: unknown }) => { seen.push({ args, env: ctx.activeJob }); };
    worker = testWorker({ queues: { default: 5 }, handlers: { KwargsJob: record, OptsJob: record } });
    const payloads = pushedPayloads(`${SET}/kwargs`);
    for (const p of payloads) await redis.lpush(`${worker.config.namespace}:queue:default`, p);
    await worker.start();
    await until(() => seen.length === 4, 'the four jobs');
    const byN = new Map(seen.map((s) => [s.args[0] as number, s]));
    const kw = byN.get(1)!.args[1] as object;
    expect(kw).toEqual({ name: 'x', count: 2, [aj.HASH]: { mark: 'ruby2_keywords', symbolKeys: ['name', 'count'] } });
    expect(aj.isKwargs(kw)).toBe(true);
    const opts = byN.get(4)!.args[1] as object;
    expect(aj.hashInfo(opts)).toEqual({ mark: 'symbol_keys', symbolKeys: ['name'] });
    expect(aj.isKwargs(opts)).toBe(false);
    const env = byN.get(2)!.env as Record<string, unknown>;
    const jid = decodeJob(payloads[1]!).jid;
    expect(env).toMatchObject({ job_class: 'KwargsJob', provider_job_id: jid, executions: 1, payload_executions: 0, locale: 'en', timezone: 'UTC', exception_executions: {} });
  });

  it('retry_on: replaces the job with the one Rails pushes into schedule, then Sidekiq\'s retry once attempts are used up', async () => {
    const runs: Array<Record<string, unknown>> = [];
    worker = testWorker({
      queues: { default: 5 }, pollIntervalMs: 200,
      handlers: {
        RetryOnJob: { handler: (_a, ctx) => { runs.push({ ...ctx.activeJob }); throw new FlakyError('flaky'); }, retryOn: [{ errors: [FlakyError], wait: 1, attempts: 2 }] },
      },
    });
    const ns = worker.config.namespace;
    const original = pushedPayloads(`${SET}/worker-failure-retry`).find((p) => p.includes('"RetryOnJob"') && p.includes('"provider_job_id":null'))!;
    const railsReenqueue = pushedPayloads(`${SET}/worker-failure-retry`, 'zadd').find((p) => p.includes('RetryOnJob'))!;
    await redis.lpush(`${ns}:queue:default`, original);
    await worker.start();
    await until(async () => (await redis.zcard(`${ns}:schedule`)) === 1 || runs.length > 1, 'the retry_on re-enqueue');
    const [member, score] = await redis.zrange(`${ns}:schedule`, 0, -1, 'WITHSCORES');
    expect(stable(member!)).toBe(stable(railsReenqueue));
    const oldJid = decodeJob(original).jid;
    const env = decodeActiveJob(decodeJob(member!)).envelope;
    expect(env.payload_provider_job_id).toBe(oldJid);
    expect(env.exception_executions).toEqual({ '[FlakyError]': 1 });
    expect(Number(score) * 1000).toBeGreaterThan(Date.now() - 5_000);
    expect(await redis.llen(`${ns}:inprogress:default:${worker.config.nodeId}`)).toBe(0);
    expect(await redis.get(`${ns}:stat:failed`)).toBe(null);
    // The scheduler promotes it; the second failure uses up attempts: Sidekiq's retry of the wrapper.
    await until(async () => (await redis.zcard(`${ns}:retry`)) === 1, 'the retry entry', 15_000);
    const [entry] = await redis.zrange(`${ns}:retry`, 0, -1);
    const e = JSON.parse(entry!) as Record<string, unknown>;
    expect(e).toMatchObject({ class: 'ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper', wrapped: 'RetryOnJob', error_class: 'FlakyError', retry_count: 0 });
    expect(runs.map((r) => r.executions)).toEqual([1, 2]);
    expect(await redis.get(`${ns}:stat:processed`)).toBe('2');
    expect(await redis.get(`${ns}:stat:failed`)).toBe('1');
  });

  it('retry_on whose wait is not a finite time: the job goes to Sidekiq\'s retry, never lost', async () => {
    worker = testWorker({
      queues: { default: 5 },
      handlers: {
        // A wait function returning nothing (a NaN schedule score) must not lose the job.
        RetryOnJob: { handler: () => { throw new FlakyError('flaky'); }, retryOn: [{ errors: [FlakyError], wait: (() => undefined) as unknown as () => number, attempts: 5 }] },
      },
    });
    const ns = worker.config.namespace;
    const original = pushedPayloads(`${SET}/worker-failure-retry`).find((p) => p.includes('"RetryOnJob"') && p.includes('"provider_job_id":null'))!;
    await redis.lpush(`${ns}:queue:default`, original);
    await worker.start();
    await until(async () => (await redis.zcard(`${ns}:retry`)) === 1, 'the retry entry');
    const [entry] = await redis.zrange(`${ns}:retry`, 0, -1);
    expect(entry!.startsWith(original.slice(0, -1))).toBe(true);
    expect(await redis.zcard(`${ns}:schedule`)).toBe(0);
    expect(await redis.llen(`${ns}:inprogress:default:${worker.config.nodeId}`)).toBe(0);
  });

  it('discard_on swallows the error; a plain failure is Sidekiq\'s retry of the wrapper, the hash unchanged', async () => {
    let discarded = 0;
    worker = testWorker({
      queues: { default: 5 },
      handlers: {
        DiscardOnJob: { handler: () => { discarded++; const e = new Error('discard me'); e.name = 'UnwantedError'; throw e; }, discardOn: [{ errors: ['UnwantedError'] }] },
        PlainFailJob: () => { throw new Error('boom'); },
      },
    });
    const ns = worker.config.namespace;
    const all = pushedPayloads(`${SET}/worker-failure-retry`);
    const plain = all.find((p) => p.includes('"PlainFailJob"'))!;
    for (const p of all.filter((x) => x.includes('"DiscardOnJob"')).concat(plain)) await redis.lpush(`${ns}:queue:default`, p);
    await worker.start();
    await until(async () => (await redis.zcard(`${ns}:retry`)) === 1 && discarded === 1, 'the retry entry and the discard');
    const [entry] = await redis.zrange(`${ns}:retry`, 0, -1);
    expect(entry!.startsWith(plain.slice(0, -1))).toBe(true);
    expect(await redis.zcard(`${ns}:schedule`)).toBe(0);
    await until(async () => (await redis.get(`${ns}:stat:processed`)) === '2', 'processed 2');
  });

  it('an unknown serializer, a GlobalID that is not a URI, a missing job_class: dead with the exact bytes, the field named', async () => {
    worker = testWorker({ queues: { default: 5 }, handlers: { GreetJob: () => {} } });
    const ns = worker.config.namespace;
    const base = pushedPayloads(`${SET}/perform-later`)[0]!;
    const bad = [
      [base.replace('["world",42]', '["world",{"_aj_serialized":"ActiveJob::Serializers::RangeSerializerX","value":1}]'), 'args[0].arguments[1]._aj_serialized'],
      [base.replace('["world",42]', '[{"_aj_globalid":"not a uri"}]'), 'args[0].arguments[0]._aj_globalid'],
      [base.replace('"job_class":"GreetJob",', ''), 'args[0].job_class'],
    ] as const;
    for (const [p] of bad) await redis.lpush(`${ns}:queue:default`, p);
    await worker.start();
    await until(async () => (await redis.zcard(`${ns}:dead`)) === 3, 'three dead entries');
    const dead = await redis.zrangeBuffer(`${ns}:dead`, 0, -1);
    for (const [p, field] of bad) {
      const e = dead.find((m) => undecodableOriginal(m)?.toString() === p);
      expect(e, field).toBeDefined();
      expect((JSON.parse(e!.toString()) as { error_message: string }).error_message).toContain(field);
    }
  });

  it('the values a handler receives, written back, give the arguments bytes Rails wrote', () => {
    for (const name of ['kwargs', 'perform-later', 'set-queue-priority', 'worker-failure-retry']) {
      for (const p of pushedPayloads(`${SET}/${name}`)) {
        const d = decodeActiveJob(decodeJob(p));
        expect(stringifyJson(encodeArguments(d.arguments, RAILS_6_1_ARGUMENTS))).toBe(stringifyJson(d.hash.get('arguments')!));
      }
    }
  });
});
