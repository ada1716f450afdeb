/**
 * A Redis URL checked before ioredis sees it, so a wrong one fails with a line naming the
 * mistake instead of whatever the resolver or parser makes of it later: `http://h:6379` was
 * "connect ENOENT", a password with an unencoded '#' "getaddrinfo ENOTFOUND pa", `/99` or
 * `/abc` as the DB a silent DB 0 or an unhandled "ERR value is not an integer".
 *
 * Accepted, as ioredis reads them: `redis://` and `rediss://` URLs, `host:port` without a
 * scheme, a socket path (`/run/redis.sock`), and `unix:///run/redis.sock` (redis-rb's and
 * Sidekiq's form, which ioredis does not know: it is handed over as the path).
 * Messages never hold the password.
 */
import { redactText } from './redact.js';

/** A Redis URL that cannot be right; the message is one line, password-free. */
export class RedisUrlError extends Error {
  override readonly name = 'RedisUrlError';
}

// No user:password@ example here: redactText would mask it as if it were a real password.
const FORMS = 'redis://host:port[/db], rediss:// for TLS, or unix:///path/to/redis.sock';
const ENCODINGS = "'@' → %40, '#' → %23, '/' → %2F, '?' → %3F, ':' → %3A";

/** Checks `url` and returns what to hand ioredis (the same URL, or the path of a unix:// URL). */
export function checkRedisUrl(url: string): string {
  if (url.startsWith('/')) return url; // a socket path
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return url; // host:port, which ioredis reads as redis://host:port
  if (scheme === 'unix') {
    const path = url.slice('unix://'.length);
    if (!path.startsWith('/')) throw new RedisUrlError(`a unix:// Redis URL needs an absolute socket path (unix:///run/redis.sock), got unix://${path.split('?')[0]}`);
    return path;
  }
  // Only the scheme is shown: redactText masks passwords of redis(s):// URLs, not of others.
  if (scheme !== 'redis' && scheme !== 'rediss') throw new RedisUrlError(`a Redis URL starts with redis://, rediss:// (TLS) or unix://, got ${scheme}://; use ${FORMS}`);

  const shown = redactText(url);
  const rest = url.slice(scheme.length + 3);
  const lastAt = rest.lastIndexOf('@');
  const end = rest.search(/[/?#]/); // where URL parsing ends the host part
  const unencoded = (ch: string) => new RedisUrlError(`the password (or user name) in the Redis URL ${shown} holds an unencoded '${ch}', which ends the host part early: percent-encode it (${ENCODINGS})`);
  // A fragment means nothing in a Redis URL: a '#' before the '@' is part of the password.
  if (lastAt >= 0 && end >= 0 && end < lastAt && rest[end] === '#') throw unencoded('#');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    if (lastAt >= 0 && end >= 0 && end < lastAt) throw unencoded(rest[end]!);
    throw new RedisUrlError(`the Redis URL ${shown} is not a valid URL; use ${FORMS}, with special characters in the password percent-encoded (${ENCODINGS})`);
  }
  const db = parsed.pathname.length > 1 ? parsed.pathname.slice(1) : parsed.searchParams.get('db') ?? undefined;
  if (db !== undefined && !/^\d{1,9}$/.test(db)) {
    if (db.includes('@') && lastAt >= 0) throw unencoded(rest[end]!);
    throw new RedisUrlError(`the DB in the Redis URL ${shown} must be a number (redis://host:6379/0), got ${JSON.stringify(db.slice(0, 40))}`);
  }
  return url;
}
