/**
 * One way to open a Redis connection, shared by the client, the engine and the CLI.
 *
 * - a URL (`redis://`, `rediss://` for TLS, `redis://user:pass@host:port/db`), ioredis options,
 *   or an existing ioredis instance (then the caller owns it);
 * - default: `REDIS_URL`, else `redis://127.0.0.1:6379`;
 * - READONLY (a failover turned our node into a replica) and LOADING make ioredis reconnect and
 *   resend the command, as Sidekiq's client retries once on READONLY.
 */
import { Redis, type RedisOptions } from 'ioredis';

export type RedisTarget = string | RedisOptions | Redis;

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The URL used when none is given: `REDIS_URL` or the local default. */
export function defaultRedisUrl(): string {
  return process.env.REDIS_URL || DEFAULT_REDIS_URL;
}

const RECONNECT_ON = /READONLY|LOADING|UNBLOCKED/;

/** Connection options every kiqgate connection gets (the caller's options win). */
export function baseOptions(extra: RedisOptions = {}): RedisOptions {
  return {
    maxRetriesPerRequest: null,
    enableAutoPipelining: false,
    reconnectOnError: (err) => (RECONNECT_ON.test(err.message) ? 2 : false),
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000) + Math.floor(Math.random() * 100),
    ...extra,
  };
}

/** Opens a new connection to `target` (or returns the given instance, with `owned: false`). */
export function openRedis(target: RedisTarget | undefined, extra: RedisOptions = {}): { redis: Redis; owned: boolean } {
  if (target instanceof Redis) return { redis: target, owned: false };
  if (target === undefined || typeof target === 'string') {
    return { redis: new Redis(target ?? defaultRedisUrl(), baseOptions(extra)), owned: true };
  }
  return { redis: new Redis(baseOptions({ ...target, ...extra })), owned: true };
}
