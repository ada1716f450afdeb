/**
 * One way to open a Redis connection, shared by the client, the engine and the CLI.
 *
 * - a URL (`redis://`, `rediss://` for TLS, `redis://user:pass@host:port/db`), ioredis options,
 *   or an existing ioredis instance (then the caller owns it);
 * - default: `REDIS_URL`, else `redis://127.0.0.1:6379`;
 * - READONLY (a failover turned our node into a replica) and LOADING make ioredis reconnect and
 *   resend the command, as Sidekiq's client retries once on READONLY;
 * - TLS files from `KIQGATE_TLS_CA`/`_CERT`/`_KEY` (see tls.ts) unless the options carry `tls`;
 * - a failed AUTH never carries the password in the error ioredis hands to callers and loggers.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { scrubCommandError } from './redact.js';
import { envTlsOptions } from './tls.js';

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
  try {
    if (target === undefined || typeof target === 'string') {
      return { redis: guardAuthErrors(new Redis(target ?? defaultRedisUrl(), baseOptions({ ...envTlsOptions(), ...extra }))), owned: true };
    }
    const tls = target.tls === undefined ? envTlsOptions() : {};
    return { redis: guardAuthErrors(new Redis(baseOptions({ ...tls, ...target, ...extra }))), owned: true };
  } catch (err) {
    // An unparsable URL: Node's error carries the whole URL (`input`), password included.
    throw scrubCommandError(err);
  }
}

/**
 * ioredis sends AUTH itself on every (re)connect, and a rejected AUTH becomes the error of
 * every queued command and of the `error` event, with `command.args` = [user, password].
 * This wraps the instance's `auth` so that error is scrubbed before anyone sees it.
 */
export function guardAuthErrors(redis: Redis): Redis {
  const auth = redis.auth as (...args: unknown[]) => Promise<unknown>;
  const guarded = function (this: Redis, ...args: unknown[]): Promise<unknown> {
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      const cb = last as (err: unknown, res?: unknown) => void;
      return auth.apply(this, [...args.slice(0, -1), (err: unknown, res?: unknown) => cb(err ? scrubCommandError(err) : err, res)]);
    }
    return auth.apply(this, args).catch((err: unknown) => { throw scrubCommandError(err); });
  };
  Object.defineProperty(redis, 'auth', { value: guarded, configurable: true, writable: true });
  return redis;
}
