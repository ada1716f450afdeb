/**
 * Shared helpers of the engine tests: a silent logger, a worker in its own namespace on the
 * test Redis, fixture payloads as captured from real peers, and a deadline poller.
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { Worker } from '../../src/engine/index.js';
import type { WorkerOptions } from '../../src/engine/index.js';
import { TEST_REDIS_URL, uniqueNamespace } from '../support/redis.js';

export const FIXTURES = '/work/shared/fixtures';

export const silent = pino({ level: 'silent' });

interface Fixture {
  commands: Array<{ argv: string[] }>;
  state: Record<string, { type: string; value: unknown }>;
}

export function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(`${FIXTURES}/${name}.json`, 'utf8')) as Fixture;
}

/** The payloads a fixture's producer pushed (LPUSH/ZADD arguments), in order. */
export function pushedPayloads(name: string, command: 'lpush' | 'zadd' = 'lpush'): string[] {
  return fixture(name).commands
    .filter((c) => c.argv[0]?.toLowerCase() === command)
    .map((c) => c.argv[c.argv.length - 1]!);
}

/** The members of a zset in a fixture's final state, with their scores. */
export function zsetState(name: string, key: string): Array<[string, number]> {
  return fixture(name).state[key]!.value as Array<[string, number]>;
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function until<T>(check: () => Promise<T> | T, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
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

/** Every key of a worker's namespace, to drop after a test. */
export async function dropKeys(redis: Redis, ns: string | undefined): Promise<void> {
  if (!ns) return;
  const keys = await redis.keys(`${ns}:*`);
  if (keys.length > 0) await redis.del(...keys);
}
