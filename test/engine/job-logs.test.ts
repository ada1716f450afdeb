/**
 * The per-job log lines say what happened, at a bounded size: one `done` line per successful
 * job at info by default (switchable, `silent` turns it off), failure messages capped in log
 * lines (not in the retry entry's 10,000), and a job aborted at shutdown logged as given back
 * to its queue, not as moved to retry.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/engine/config.js';
import { Worker } from '../../src/engine/index.js';
import { captureLog } from '../support/log-capture.js';
import { testRedis, TEST_REDIS_URL, uniqueNamespace } from '../support/redis.js';
import { dropKeys, stopWorkerAfterEach, testWorker, until } from './helpers.js';

const redis = testRedis();
let worker: Worker | undefined;

stopWorkerAfterEach(redis, () => worker);

const job = (cls: string, id: string) => JSON.stringify({ class: cls, args: [id], queue: 'default', jid: `j-${id}`, retry: true });

async function processed(w: Worker, n: number): Promise<void> {
  await until(async () => (await redis.get(w.keys.stat('processed'))) === String(n), `${n} processed`);
}

describe('per-job log lines', () => {
  it('a successful job logs one done line at info by default, with class, jid and durationMs', async () => {
    const log = captureLog('info');
    worker = testWorker({ logger: log.logger, handlers: { Ok: () => undefined } });
    await redis.lpush(worker.keys.queue('default'), job('Ok', '1'));
    await worker.start();
    await processed(worker, 1);
    await until(() => log.lines().some((l) => l.msg === 'done'), 'the done line');
    const done = log.lines().filter((l) => l.msg === 'done');
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ level: 30, queue: 'default', class: 'Ok', jid: 'j-1' });
    expect(typeof done[0]!.durationMs).toBe('number');
  });

  it('the done line is off with jobLogLevels.done silent, below the logger level, or KIQGATE_DONE_LOG_LEVEL=silent', async () => {
    const quiet = async (make: (logger: ReturnType<typeof captureLog>['logger']) => Worker): Promise<void> => {
      const log = captureLog('info');
      worker = make(log.logger);
      await redis.lpush(worker.keys.queue('default'), job('Ok', '1'), job('Fails', '2'));
      await worker.start();
      await processed(worker, 2);
      // A job's lines are written before its processed count: by now both jobs' lines are in.
      await until(() => log.lines().some((l) => l.msg === 'fail: moved to retry'), 'the fail line');
      expect(log.lines().filter((l) => l.msg === 'done')).toEqual([]);
      await worker.stop();
      await dropKeys(redis, worker.config.namespace);
      worker = undefined;
    };
    const handlers = { Ok: () => undefined, Fails: () => { throw new Error('no'); } };
    await quiet((logger) => testWorker({ logger, handlers, jobLogLevels: { done: 'silent' } }));
    await quiet((logger) => testWorker({ logger, handlers, jobLogLevels: { done: 'debug' } }));
    const config = resolveConfig({
      api: { redis: TEST_REDIS_URL, namespace: uniqueNamespace('eng'), sidekiqHeartbeat: false, shutdownTimeoutMs: 2_000 },
      env: { KIQGATE_DONE_LOG_LEVEL: 'silent' },
    });
    expect(config.jobLogLevels.done).toBe('silent');
    await quiet((logger) => new Worker({ logger, handlers }, config));
  });

  it('a huge error message is cut in the log line (first 1,000 characters and the length) and to 10,000 in the retry entry', async () => {
    const log = captureLog('info');
    const huge = `start-${'x'.repeat(2_000_000)}`;
    worker = testWorker({ logger: log.logger, handlers: { Huge: () => { throw new Error(huge); } } });
    await redis.lpush(worker.keys.queue('default'), job('Huge', '1'));
    await worker.start();
    await until(async () => (await redis.zcard(worker!.keys.retry)) === 1, 'the retry entry');
    const [entry] = await redis.zrange(worker.keys.retry, 0, -1);
    expect((JSON.parse(entry!) as { error_message: string }).error_message).toBe(huge.slice(0, 10_000));
    await until(() => log.raw().some((l) => l.includes('"fail: moved to retry"')), 'the fail line');
    const line = log.raw().find((l) => l.includes('"fail: moved to retry"'))!;
    expect(line.length).toBeLessThan(2_000);
    const err = (JSON.parse(line) as { err: string }).err;
    expect(err.startsWith(huge.slice(0, 1_000))).toBe(true);
    expect(err).toContain(`[truncated: ${huge.length} chars in all]`);
    expect(log.raw().every((l) => l.length < 2_000)).toBe(true);
  });

  it('a job aborted at shutdown is logged as given back to its queue, not as moved to retry', async () => {
    const log = captureLog('info');
    worker = testWorker({
      logger: log.logger,
      shutdownTimeoutMs: 300,
      handlers: { Slow: (_args, ctx) => new Promise((_resolve, reject) => { ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)); }) },
    });
    const k = worker.keys;
    const raw = job('Slow', '1');
    await redis.lpush(k.queue('default'), raw);
    await worker.start();
    await until(() => worker!.running().length === 1, 'the job running');
    await worker.stop();
    expect(await redis.lrange(k.queue('default'), 0, -1)).toEqual([raw]);
    expect(await redis.zcard(k.retry)).toBe(0);
    await until(() => log.lines().some((l) => l.msg === 'aborted at shutdown: given back to default'), 'the given-back line');
    expect(log.lines().find((l) => l.msg === 'aborted at shutdown: given back to default')).toMatchObject({ class: 'Slow', jid: 'j-1' });
    expect(log.lines().filter((l) => String(l.msg).startsWith('fail:'))).toEqual([]);
  });
});
