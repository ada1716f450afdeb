/**
 * A kiqgate worker writes the failure entry of the runtime it stands in for (`peer`), also for
 * a job another runtime produced: standing in for Verk, a Sidekiq job's retry entry is Verk's
 * (13 keys, args a JSON string, retry_count 1, integer seconds); standing in for Exq, it is
 * Exq's, in Exq's namespace. The handler still gets the job's args as its producer wrote them.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from '../../src/engine/index.js';
import type { Peer } from '../../src/wire/index.js';
import { testRedis, uniqueNamespace } from '../support/redis.js';
import { pushedPayloads, silent, stopWorkerAfterEach, testWorker, until } from './helpers.js';

const redis = testRedis();
let worker: Worker | undefined;

stopWorkerAfterEach(redis, () => worker);

/** The Sidekiq 7 job of the captured worker-failure-retry scenario (class FailWorker, args [1]). */
const SIDEKIQ_JOB = pushedPayloads('sidekiq-7.3.10/worker-failure-retry')[0]!;

/** Runs SIDEKIQ_JOB in a worker standing in for `peer`, whose handler throws; returns the retry entry, its score and the args the handler saw. */
async function failAs(peer: Peer, namespace?: string): Promise<{ entry: string; score: string; args: unknown[] }> {
  const seen: unknown[][] = [];
  worker = testWorker({ peer, ...(namespace ? { namespace } : {}), handlers: { FailWorker: (args) => { seen.push(args); throw new Error('boom'); } } });
  await redis.lpush(worker.keys.queue('default'), SIDEKIQ_JOB);
  await worker.start();
  const [entry, score] = await until(async () => {
    const r = await redis.zrange(worker!.keys.retry, 0, -1, 'WITHSCORES');
    return r.length === 2 ? r : undefined;
  }, 'the retry entry');
  expect(await redis.zcard(worker.keys.dead)).toBe(0);
  return { entry: entry!, score: score!, args: seen[0]! };
}

describe('the failure entry follows the worker\'s peer', () => {
  it('peer verk: a Sidekiq job\'s retry entry is the one Verk writes', async () => {
    const { entry, score, args } = await failAs('verk');
    expect(args).toEqual([1]);
    const orig = JSON.parse(SIDEKIQ_JOB) as { jid: string };
    const created = /"created_at":([\d.]+)/.exec(SIDEKIQ_JOB)![1];
    const enqueued = /"enqueued_at":([\d.]+)/.exec(SIDEKIQ_JOB)![1];
    const failedAt = Number(/"failed_at":(\d+),/.exec(entry)![1]);
    expect(entry).toBe(
      `{"args":"[1]","class":"FailWorker","created_at":${created},"enqueued_at":${enqueued},"error_backtrace":"\\n","error_message":"boom",`
      + `"failed_at":${failedAt},"finished_at":null,"jid":"${orig.jid}","max_retry_count":null,"queue":"default","retried_at":null,"retry_count":1}`,
    );
    expect(Math.abs(failedAt - Date.now() / 1000)).toBeLessThan(60);
    // Verk's backoff for count 1 (18..76 s after the failure second), sent as "<int>.0".
    expect(score).toMatch(/^\d+$/); // Redis returns an integral score without ".0"
    expect(Number(score) - failedAt).toBeGreaterThanOrEqual(18);
    expect(Number(score) - failedAt).toBeLessThanOrEqual(76);
  });

  it('peer exq: the retry entry is Exq\'s, written to the retry set of Exq\'s namespace', async () => {
    const ns = uniqueNamespace('exq');
    const { entry, args } = await failAs('exq', ns);
    expect(worker!.keys.retry).toBe(`${ns}:retry`);
    expect(args).toEqual([1]);
    const doc = JSON.parse(entry) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['args', 'class', 'enqueued_at', 'error_class', 'error_message', 'failed_at', 'finished_at', 'jid', 'processor', 'queue', 'retried_at', 'retry', 'retry_count']);
    expect(doc).toMatchObject({ args: [1], class: 'FailWorker', error_class: null, error_message: 'boom', finished_at: null, processor: null, queue: 'default', retry: true, retry_count: 1 });
    expect(doc.failed_at).toBe(doc.retried_at);
    expect(entry).toMatch(/"failed_at":\d+\.\d+,/);
    expect(entry).not.toContain('created_at'); // Exq drops a foreign job's created_at
  });

  it('a worker standing in for Exq uses Exq\'s namespace by default and writes no Sidekiq heartbeat', () => {
    const w = new Worker({ peer: 'exq', logger: silent });
    expect(w.keys.retry).toBe('exq:retry');
    expect(w.config.sidekiqHeartbeat).toBe(false);
    expect(() => new Worker({ peer: 'verk', sidekiqHeartbeat: true, logger: silent })).toThrow(/peer verk does not read Sidekiq's process heartbeat/);
  });
});
