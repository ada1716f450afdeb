/**
 * Shared helpers of the engine tests: a silent logger, a worker in its own namespace on the
 * test Redis, fixture payloads as captured from real peers, and a deadline poller.
 */
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach } from 'vitest';
import { Worker } from '../../src/engine/index.js';
import type { WorkerOptions } from '../../src/engine/index.js';
import { argvStrings, type Fixture, FIXTURES_DIR, loadFixture } from '../support/fixtures.js';
import { dropNamespace, TEST_REDIS_URL, uniqueNamespace } from '../support/redis.js';

export { until } from '../support/wait.js';

/** The project's own copy of the captured fixtures (tests never read outside the repository). */
export const FIXTURES = FIXTURES_DIR;

export const silent = pino({ level: 'silent' });

/** A fixture by `<set>/<scenario>`, e.g. `sidekiq-7.3.10/worker-success`. */
export function fixture(name: string): Fixture {
  const [set, scenario] = name.split('/') as [string, string];
  return loadFixture(set, scenario);
}

/** The payloads a fixture's producer pushed (LPUSH/ZADD arguments), in order. */
export function pushedPayloads(name: string, command: 'lpush' | 'zadd' = 'lpush'): string[] {
  return fixture(name).commands
    .map(argvStrings)
    .filter((argv) => argv[0]?.toLowerCase() === command)
    .map((argv) => argv[argv.length - 1]!);
}

/** The members of a zset in a fixture's final state, with their scores. */
export function zsetState(name: string, key: string): Array<[string, number]> {
  return fixture(name).state[key]!.value as Array<[string, number]>;
}

/** A worker on the test Redis in a fresh namespace (heartbeat off unless asked, quiet logs). */
export function testWorker(opts: WorkerOptions = {}): Worker {
  return new Worker({
    redis: TEST_REDIS_URL,
    namespace: uniqueNamespace('eng'),
    logger: silent,
    sidekiqHeartbeat: false,
    shutdownTimeoutMs: 2_000,
    ...opts,
  });
}

/**
 * After each test: stop the test's worker (`current()`) and drop its namespace; after the file:
 * close `redis`. Stopping a worker twice is harmless, so a test without a worker is fine.
 */
export function stopWorkerAfterEach(redis: Redis, current: () => Worker | undefined): void {
  afterEach(async () => {
    const w = current();
    await w?.stop();
    await dropKeys(redis, w?.config.namespace);
  });
  afterAll(async () => { await redis.quit(); });
}

/**
 * After each test: stop every worker in `workers` and drop every namespace in `namespaces` (the
 * test pushes to both; they are emptied); after the file: close `redis`.
 */
export function stopWorkersAfterEach(redis: Redis, workers: Worker[], namespaces: string[]): void {
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    for (const ns of namespaces.splice(0)) await dropKeys(redis, ns);
  });
  afterAll(async () => { await redis.quit(); });
}

/** Every key of a worker's namespace, to drop after a test. */
export async function dropKeys(redis: Redis, ns: string | undefined): Promise<void> {
  if (ns) await dropNamespace(redis, ns);
}
