/**
 * The Worker's lifecycle hooks and forced stop, through the API: `startup` runs before anything
 * is fetched, `shutdown` once every job finished or was given back; a throwing `startup` fails
 * start() with nothing fetched and the node id released; stop({ force: true }) during a graceful
 * stop aborts the running jobs and gives them back at once.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError, Worker, type WorkerHooks, type WorkerOptions } from '../../src/engine/index.js';
import { freePort } from '../../src/support/redis-server.js';
import { HOSTILE } from '../support/hostile-thrown.js';
import { captureLog } from '../support/log-capture.js';
import { TEST_REDIS_URL, testRedis, uniqueNamespace } from '../support/redis.js';
import { dropKeys, silent, until } from './helpers.js';

const redis = testRedis();
const workers: Worker[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) {
    await w.stop({ force: true });
    await dropKeys(redis, w.config.namespace);
  }
});
afterAll(async () => { await redis.quit(); });

const job = (cls: string, id: string) => JSON.stringify({ class: cls, args: [id], queue: 'default', jid: `j-${id}`, retry: true });

/** A worker in a fresh namespace on the test Redis, fixed node id h1. */
function worker(opts: WorkerOptions & WorkerHooks): Worker {
  const w = new Worker({
    redis: TEST_REDIS_URL, namespace: uniqueNamespace('hook'), logger: silent, sidekiqHeartbeat: false,
    nodeId: 'h1', queues: { default: 2 }, ...opts,
  });
  workers.push(w);
  return w;
}

describe('lifecycle hooks', () => {
  it('startup runs before the first fetch; shutdown after the last job was given back, before stop() resolves', async () => {
    const events: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const w = worker({
      shutdownTimeoutMs: 200,
      handlers: {
        Quick: (args) => { events.push(`ran ${String(args[0])}`); },
        Hang: (args, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => { events.push(`aborted ${String(args[0])}`); reject(ctx.signal.reason); })),
      },
      startup: async () => {
        events.push(`startup, queue holds ${await redis.llen(w.keys.queue('default'))}`);
        await held;
        events.push('startup done');
      },
      shutdown: async () => {
        const queued = await redis.lrange(w.keys.queue('default'), 0, -1);
        const inProgress = await redis.llen(w.keys.inProgress('default', 'h1'));
        events.push(`shutdown: queue [${queued.join(' ')}], in progress ${inProgress}, claim ${await redis.exists(w.keys.nodeClaim('h1'))}`);
      },
    });
    await redis.lpush(w.keys.queue('default'), job('Quick', 'a'));
    const started = w.start();
    await until(() => events.length === 1, 'the startup hook to run');
    expect(await redis.llen(w.keys.queue('default'))).toBe(1); // nothing fetched while startup runs
    release();
    await started;
    await until(() => events.includes('ran a'), 'the job to run after startup');
    await redis.lpush(w.keys.queue('default'), job('Hang', 'b'));
    await until(async () => (await redis.llen(w.keys.inProgress('default', 'h1'))) === 1 && w.running().length === 1, 'the hanging job to run');
    await w.stop();
    expect(events).toEqual([
      'startup, queue holds 1',
      'startup done',
      'ran a',
      'aborted b',
      `shutdown: queue [${job('Hang', 'b')}], in progress 0, claim 0`,
    ]);
  });

  it('a startup hook that throws fails start(): nothing fetched, the node id released, shutdown not run', async () => {
    const events: string[] = [];
    const w = worker({
      handlers: { Quick: () => { events.push('ran'); } },
      startup: () => { throw new Error('no database'); },
      shutdown: () => { events.push('shutdown'); },
    });
    await redis.lpush(w.keys.queue('default'), job('Quick', 'a'));
    await expect(w.start()).rejects.toThrow(/^startup hook failed: no database$/);
    await w.stopped;
    await w.stop();
    expect(events).toEqual([]);
    expect(await redis.lrange(w.keys.queue('default'), 0, -1)).toEqual([job('Quick', 'a')]);
    expect(await redis.exists(w.keys.nodeClaim('h1'))).toBe(0);
  });

  it('stop() while the startup hook runs: nothing is fetched, and shutdown runs after startup finished', async () => {
    const events: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const w = worker({
      handlers: { Quick: () => { events.push('ran'); } },
      startup: async () => { events.push('startup'); await held; events.push('startup done'); },
      shutdown: () => { events.push('shutdown'); },
    });
    await redis.lpush(w.keys.queue('default'), job('Quick', 'a'));
    const started = w.start();
    await until(() => events.length === 1, 'the startup hook to run');
    const stopped = w.stop();
    release();
    await started;
    await stopped;
    expect(events).toEqual(['startup', 'startup done', 'shutdown']);
    expect(await redis.lrange(w.keys.queue('default'), 0, -1)).toEqual([job('Quick', 'a')]);
    expect(await redis.exists(w.keys.nodeClaim('h1'))).toBe(0);
  });

  it('stop({ force: true }) during a graceful stop aborts running jobs and gives them back now, not at the 60 s deadline', async () => {
    const aborted: string[] = [];
    const w = worker({
      shutdownTimeoutMs: 60_000,
      handlers: { Hang: (args, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => { aborted.push(String(args[0])); reject(ctx.signal.reason); })) },
    });
    await redis.lpush(w.keys.queue('default'), job('Hang', 'x'), job('Hang', 'y'));
    await w.start();
    await until(() => w.running().length === 2, 'both jobs running');
    const graceful = w.stop();
    await until(() => w.isQuiet(), 'the graceful stop to begin');
    expect(aborted).toEqual([]);
    const forced = w.stop({ force: true });
    expect(forced).toBe(graceful); // the same stop, hurried
    await forced;
    expect(aborted.sort()).toEqual(['x', 'y']);
    expect((await redis.lrange(w.keys.queue('default'), 0, -1)).sort()).toEqual([job('Hang', 'x'), job('Hang', 'y')].sort());
    expect(await redis.llen(w.keys.inProgress('default', 'h1'))).toBe(0);
  });

  it('a hook that is not a function is a ConfigError', () => {
    expect(() => worker({ shutdown: 'close the pool' as unknown as () => void })).toThrow(ConfigError);
    workers.length = 0;
  });

  it('stop() while start() still waits for an unreachable Redis: start() resolves having started nothing, and shutdown does not run', async () => {
    const events: string[] = [];
    const w = new Worker({
      redis: `redis://127.0.0.1:${await freePort()}`, connectTimeoutMs: 0, logger: silent, sidekiqHeartbeat: false, handlers: { Job: () => {} },
      startup: () => { events.push('startup'); }, shutdown: () => { events.push('shutdown'); },
    });
    let settled: string | undefined;
    const started = w.start().then(() => { settled = 'resolved'; }, (e: unknown) => { settled = `rejected: ${String(e)}`; });
    await w.stop();
    await until(() => settled, 'start() to settle after stop()');
    await started;
    expect(settled).toBe('resolved');
    expect(events).toEqual([]);
  });

  it('a forced stop ends start() while a slow startup hook still runs (a second Ctrl-C)', async () => {
    let hookStarted = false;
    const w = worker({ handlers: { Job: () => {} }, startup: () => { hookStarted = true; return new Promise<void>(() => {}); } });
    let settled = false;
    void w.start().then(() => { settled = true; }, () => { settled = true; });
    await until(() => hookStarted, 'the startup hook to run');
    const stopped = w.stop();
    await w.stop({ force: true });
    await stopped;
    await until(() => settled, 'start() to return after the forced stop');
    expect(await redis.exists(w.keys.nodeClaim('h1'))).toBe(0);
  });

  it('hook failures are logged redacted and described, and stop() resolves whatever the shutdown hook throws', async () => {
    const secret = 'redis://app:s3cret-pw@db.internal:6379';
    const log = captureLog('info');
    const failing = worker({ logger: log.logger, handlers: { Job: () => {} }, startup: () => { throw new Error(`cannot connect to ${secret}`); } });
    await expect(failing.start()).rejects.toThrow('startup hook failed: cannot connect to redis://app:***@db.internal:6379');
    for (const hostile of HOSTILE) {
      const w = worker({ logger: log.logger, handlers: { Job: () => {} }, shutdown: () => { throw hostile.make(); } });
      await w.start();
      await w.stop(); // resolves: a throwing Proxy, a throwing getter... never make stop() fail
    }
    const lines = log.raw().join('\n');
    expect(lines).not.toContain('s3cret-pw');
    expect(log.lines().filter((l) => l.msg === 'shutdown hook failed')).toHaveLength(HOSTILE.length);
  });

  it('addQueue() holds to the one queue-name rule and concurrency range', () => {
    const w = worker({ handlers: { Job: () => {} } });
    expect(() => w.addQueue('a,b', 1)).toThrow(ConfigError);
    expect(() => w.addQueue('a\u0000b', 1)).toThrow(ConfigError);
    expect(() => w.addQueue('fine', 1_000_000_000)).toThrow(/concurrency from 1 to 10000/);
  });
});
