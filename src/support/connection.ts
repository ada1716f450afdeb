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
import { checkDb, closedEarlyMessage, isCertificateError, notRedisMessage, PlainServerProbe, RedisMismatchError } from './connect-diagnosis.js';
import { redactText, redactUrl, scrubCommandError } from './redact.js';
import { checkRedisUrl } from './redis-url.js';
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
      const url = checkRedisUrl(target ?? defaultRedisUrl());
      return { redis: guardAuthErrors(new Redis(url, baseOptions({ ...envTlsOptions(), ...extra }))), owned: true };
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

/** A checked connection could not be made; `reason` is the connection's own error, redacted. */
export class RedisUnreachableError extends Error {
  override readonly name = 'RedisUnreachableError';
  constructor(readonly reason: string, override readonly cause: unknown) {
    super(`cannot reach Redis (${reason})`);
  }
}

/**
 * Opens a connection for a one-shot command (CLI, compat runner): connects and PINGs once, with
 * no reconnect loop, so a wrong address fails fast. On failure the error carries the
 * connection's own error (ECONNREFUSED, WRONGPASS, a TLS problem), redacted: the rejection of
 * the PING itself often says only "Connection is closed". A URL that cannot be right is a
 * RedisUrlError before anything is opened; a server whose answers show the configuration is
 * wrong for it (not Redis, plain Redis behind rediss://, no such DB) a RedisMismatchError.
 */
export async function connectChecked(url: string, extra: RedisOptions = {}): Promise<Redis> {
  const redis = guardAuthErrors(new Redis(checkRedisUrl(url), baseOptions({
    ...envTlsOptions(), lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: () => null, ...extra,
  })));
  let lastError: Error | undefined;
  let protocolError: Error | undefined; // kept: a reset right after it would hide it as lastError
  redis.on('error', (err: Error) => {
    lastError = err;
    if (notRedisMessage(err, '') !== undefined) protocolError ??= err;
  });
  const { host = '127.0.0.1', port = 6379, path, tls } = redis.options;
  const where = path ?? `${host}:${port}`;
  const probe = tls && !path ? new PlainServerProbe(redis, host, port) : undefined;
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    // Once the connection has ended, disconnect() would arm ioredis's 2 s disconnect timer on a
    // socket that is already gone, keeping a failed command's process alive for 2 s.
    if (redis.status !== 'end') redis.disconnect();
    const cause = lastError ?? err;
    const notRedis = notRedisMessage(protocolError ?? cause, where)
      ?? (!tls && !path ? await closedEarlyMessage(cause, host, port, where) : undefined);
    if (notRedis) throw new RedisMismatchError(notRedis);
    // A certificate complaint means the server does speak TLS: no plain probe then.
    if (probe && !isCertificateError(cause) && await probe.check()) throw new RedisMismatchError(probe.message(where));
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new RedisUnreachableError(redactText(message.split('\n')[0]!), cause);
  } finally {
    probe?.cancel();
  }
  try {
    await checkDb(redis, Number(redis.options.db ?? 0), redactUrl(url));
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  return redis;
}

/**
 * Closes a connection: with QUIT when it is up (replies still due arrive first), else at once.
 * While the connection is down, a QUIT would wait in ioredis's offline queue behind the
 * commands already waiting there, for as long as Redis stays away. Closing at once rejects
 * those commands ("Connection is closed."), except while ioredis waits between two reconnect
 * attempts: then they stay pending (redis/ioredis#2169). Either way none reports success.
 */
export async function closeConnection(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
}

/** Every key matching `pattern`, over all SCAN pages (one page may be empty even when keys exist). */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) found.add(k);
  } while (cursor !== '0');
  return [...found];
}

/** Deletes every key matching `pattern` (UNLINK, in batches). */
export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  const keys = await scanKeys(redis, pattern);
  for (let i = 0; i < keys.length; i += 1000) await redis.unlink(...keys.slice(i, i + 1000));
}
