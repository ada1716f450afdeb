/**
 * The dead-set trim follows the runtime that writes the dead entry, the one the worker stands in
 * for (its `peer`): a Verk worker trims dead as Verk does (100 entries, 7 days), a Sidekiq one as
 * Sidekiq does (10000, 180 days), unless deadMaxJobs / deadTimeoutSeconds are configured, which
 * then apply to every job. Each job here fails in a worker standing in for its own producer.
 */
import { describe, expect, it } from 'vitest';
import type { Worker, WorkerOptions } from '../../src/engine/index.js';
import { testRedis } from '../support/redis.js';
import { stopWorkerAfterEach, testWorker, until } from './helpers.js';

const redis = testRedis();
let worker: Worker | undefined;

stopWorkerAfterEach(redis, () => worker);

const DAY = 86_400;
/** Entries already in dead: 150 an hour old, 5 ten days old, 1 two hundred days old. */
const RECENT = 150;
const TEN_DAYS = 5;

function boom(): never {
  throw new Error('boom');
}

/** A Verk job (args as a JSON string) that goes to dead on its first failure. */
const verkJob = JSON.stringify({ queue: 'default', class: 'Dies', args: '[]', jid: '4242', enqueued_at: 1_700_000_000, max_retry_count: 0, retry_count: 0 });
/** A Sidekiq 7 job that goes to dead on its first failure. */
const sidekiqJob = JSON.stringify({ class: 'Dies', args: [], queue: 'default', jid: '0123456789abcdef01234567', retry: 0, created_at: 1_700_000_000.5, enqueued_at: 1_700_000_000.5 });

/** Fills dead, fails `payload` into it, and returns the dead set's size and oldest age in days. */
async function failIntoDead(opts: WorkerOptions, payload: string, jid: string): Promise<{ size: number; oldestDays: number }> {
  worker = testWorker({ ...opts, queues: { default: 1 }, handlers: { Dies: boom } });
  const k = worker.keys;
  const nowS = Date.now() / 1000;
  const pipe = redis.pipeline();
  for (let i = 0; i < RECENT; i++) pipe.zadd(k.dead, nowS - 3600 - i, `recent ${i}`);
  for (let i = 0; i < TEN_DAYS; i++) pipe.zadd(k.dead, nowS - 10 * DAY - i, `ten days ${i}`);
  pipe.zadd(k.dead, nowS - 200 * DAY, 'two hundred days');
  await pipe.exec();
  await redis.lpush(k.queue('default'), payload);
  await worker.start();
  await until(async () => (await redis.get(k.stat('failed'))) === '1', 'the job failed');
  const members = await redis.zrange(k.dead, 0, -1, 'WITHSCORES');
  expect(members.some((m) => m.includes(`"jid":"${jid}"`)), 'the job is in dead').toBe(true);
  const oldest = Number(members[1]);
  return { size: members.length / 2, oldestDays: (nowS - oldest) / DAY };
}

describe("dead-set limits follow the worker's peer", () => {
  it("a Verk job trims dead to Verk's limits: the newest 100, none older than 7 days", async () => {
    const { size, oldestDays } = await failIntoDead({ peer: 'verk' }, verkJob, '4242');
    expect(size).toBe(100);
    expect(oldestDays).toBeLessThan(7);
  });

  it("a Sidekiq job trims dead to Sidekiq's limits: nothing of 180 days or newer goes", async () => {
    const { size, oldestDays } = await failIntoDead({}, sidekiqJob, '0123456789abcdef01234567');
    expect(size).toBe(RECENT + TEN_DAYS + 1); // only the 200-day-old entry is gone
    expect(oldestDays).toBeGreaterThan(9);
    expect(oldestDays).toBeLessThan(180);
  });

  it('configured deadMaxJobs / deadTimeoutSeconds win over the Verk limits', async () => {
    const { size, oldestDays } = await failIntoDead({ peer: 'verk', deadMaxJobs: 1000, deadTimeoutSeconds: 30 * DAY }, verkJob, '4242');
    expect(size).toBe(RECENT + TEN_DAYS + 1); // the 10-day-old entries stay; the 200-day-old one goes
    expect(oldestDays).toBeGreaterThan(9);
  });

  it('configured limits win over the Sidekiq limits', async () => {
    const { size, oldestDays } = await failIntoDead({ deadMaxJobs: 50, deadTimeoutSeconds: 2 * DAY }, sidekiqJob, '0123456789abcdef01234567');
    expect(size).toBe(50);
    expect(oldestDays).toBeLessThan(1);
  });

  it('one configured limit leaves the other to the dialect (Verk: 7 days with deadMaxJobs 1000)', async () => {
    const { size, oldestDays } = await failIntoDead({ peer: 'verk', deadMaxJobs: 1000 }, verkJob, '4242');
    expect(size).toBe(RECENT + 1); // every entry older than 7 days is gone, but more than 100 stay
    expect(oldestDays).toBeLessThan(7);
  });
});
