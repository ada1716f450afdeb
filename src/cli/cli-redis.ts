/**
 * Redis for command-line use: fail fast with one clear line when nothing answers (a CLI must
 * not hang retrying forever), and, for the demo, start a private redis-server when there is no
 * Redis at all.
 */
import type { Redis } from 'ioredis';
import { isCertificateError, LOGIN_REFUSED, RedisMismatchError } from '../support/connect-diagnosis.js';
import { connectChecked, DEFAULT_REDIS_URL, RedisUnreachableError } from '../support/connection.js';
import { RedisUrlError } from '../support/redis-url.js';
import { redactText, redactUrl } from '../support/redact.js';
import { TlsConfigError } from '../support/tls.js';
import { portAnswers, redisServerInstalled, startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { envRedisUrl } from '../engine/config.js';
import { CliError } from './cli-error.js';

/**
 * The URL from `--redis`, else the environment's (KIQGATE_REDIS_URL, else REDIS_URL: the
 * worker's rule, {@link envRedisUrl}), else the local default.
 */
export function resolveRedisUrl(flag: string | undefined): string {
  return flag || envRedisUrl(process.env) || DEFAULT_REDIS_URL;
}

/**
 * Connects and PINGs; throws a CliError naming the (redacted) URL when Redis does not answer.
 * Exit 2 for what is wrong before anything is contacted (the URL, a TLS file), 1 when the
 * server does not answer or its answer shows the configuration is wrong for it.
 */
export async function connectForCli(url: string): Promise<Redis> {
  try {
    return await connectChecked(url);
  } catch (err) {
    if (err instanceof TlsConfigError || err instanceof RedisUrlError) throw new CliError(err.message, 2);
    if (err instanceof RedisMismatchError) throw new CliError(err.message, 1);
    if (err instanceof RedisUnreachableError) throw new CliError(`cannot reach Redis at ${redactUrl(url)} (${err.reason}); ${hint(err.cause)}`, 1);
    // `new Redis(url)` throws on a URL it cannot parse; its message may hold the URL itself.
    throw new CliError(`invalid Redis URL ${redactUrl(url)} (${redactText((err as Error).message)}); percent-encode special characters in the password`, 2);
  }
}

/** What to do about a connection failure: TLS and auth problems are not fixed by starting a server. */
function hint(err: unknown): string {
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  const msg = err instanceof Error ? err.message : String(err);
  if (isCertificateError(err) || /ERR_SSL|ERR_TLS/.test(code) || /SSL|TLS|wrong version number/i.test(msg)) {
    return 'check the TLS settings (--tls-ca/--tls-cert/--tls-key or KIQGATE_TLS_CA/_CERT/_KEY, and rediss:// vs redis://)';
  }
  if (LOGIN_REFUSED.test(msg)) return 'check the user name and password in the URL';
  return 'start redis-server or pass --redis URL';
}

export interface DemoRedis {
  url: string;
  /** Set when a private server was started (stop it on exit). */
  server?: RedisServerHandle;
}

/**
 * The Redis the demo uses: `--redis`/KIQGATE_REDIS_URL/REDIS_URL when given; else 127.0.0.1:6379 when it answers;
 * else a private redis-server on a free port; else a CliError saying how to get one.
 */
export async function redisForDemo(flag: string | undefined, say: (line: string) => void, forcePrivate = false): Promise<DemoRedis> {
  if (!forcePrivate) {
    if (flag || envRedisUrl(process.env)) return { url: resolveRedisUrl(flag) };
    if (await portAnswers('127.0.0.1', 6379)) return { url: DEFAULT_REDIS_URL };
  }
  if (!redisServerInstalled()) {
    throw new CliError('no Redis: nothing answers on 127.0.0.1:6379, REDIS_URL is not set, and redis-server is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL.', 1);
  }
  const server = await startRedisServer();
  say(`${forcePrivate ? 'as asked' : 'no Redis on 127.0.0.1:6379 and no REDIS_URL'}: started a private redis-server at ${server.url} (stopped on exit)`);
  return { url: server.url, server };
}
