/**
 * Test access to the real Redis: the shared server at REDIS_URL (default 127.0.0.1:6379),
 * each test working under a namespace of its own so parallel files never see each other's keys.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { deleteKeys } from '../../src/support/connection.js';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A fresh namespace such as `t-3f9a1c2b`, unique to one test. */
export function uniqueNamespace(label = 't'): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

/** A connection to the test Redis; close it with `quit()` in afterAll/afterEach. */
export function testRedis(url = TEST_REDIS_URL): Redis {
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
}

/** Deletes every key under `<ns>:`. */
export async function dropNamespace(redis: Redis, ns: string): Promise<void> {
  await deleteKeys(redis, `${ns}:*`);
}
