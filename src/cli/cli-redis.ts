/**
 * Redis for command-line use: fail fast with one clear line when nothing answers (a CLI must
 * not hang retrying forever), and, for the demo, start a private redis-server when there is no
 * Redis at all.
 */
import { Redis } from 'ioredis';
import { baseOptions, DEFAULT_REDIS_URL } from '../support/connection.js';
import { redactUrl } from '../support/redact.js';
import { portAnswers, redisServerInstalled, startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { CliError } from './cli-error.js';

/** The URL from `--redis`, else REDIS_URL, else the local default. */
export function resolveRedisUrl(flag: string | undefined): string {
  return flag || process.env.REDIS_URL || DEFAULT_REDIS_URL;
}

/** Connects and PINGs; throws a CliError naming the (redacted) URL when Redis does not answer. */
export async function connectForCli(url: string): Promise<Redis> {
  const redis = new Redis(url, baseOptions({ lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: () => null }));
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => { lastError = err; }); // reported below, once
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    const reason = lastError?.message ?? (err instanceof Error ? err.message : String(err));
    throw new CliError(`cannot reach Redis at ${redactUrl(url)} (${reason.split('\n')[0]}); start redis-server or pass --redis URL`, 1);
  }
  return redis;
}

export interface DemoRedis {
  url: string;
  /** Set when a private server was started (stop it on exit). */
  server?: RedisServerHandle;
}

/**
 * The Redis the demo uses: `--redis`/REDIS_URL when given; else 127.0.0.1:6379 when it answers;
 * else a private redis-server on a free port; else a CliError saying how to get one.
 */
export async function redisForDemo(flag: string | undefined, say: (line: string) => void, forcePrivate = false): Promise<DemoRedis> {
  if (!forcePrivate) {
    if (flag || process.env.REDIS_URL) return { url: resolveRedisUrl(flag) };
    if (await portAnswers('127.0.0.1', 6379)) return { url: DEFAULT_REDIS_URL };
  }
  if (!redisServerInstalled()) {
    throw new CliError('no Redis: nothing answers on 127.0.0.1:6379, REDIS_URL is not set, and redis-server is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL.', 1);
  }
  const server = await startRedisServer();
  say(`${forcePrivate ? 'as asked' : 'no Redis on 127.0.0.1:6379 and no REDIS_URL'}: started a private redis-server at ${server.url} (stopped on exit)`);
  return { url: server.url, server };
}
