/**
 * What every admin command shares: the connection and layout flags (`--redis`, `--peer`,
 * `--namespace`, TLS, `--json`), opening an {@link Admin} on them, and turning an AdminError
 * into the CLI's exit codes (2: the request cannot be done on this layout; 1: nothing matched).
 */
import type { Redis } from 'ioredis';
import { Admin, AdminError } from '../admin/index.js';
import { checkEnvNames, ConfigError } from '../engine/config.js';
import { isPeer, PEERS } from '../wire/index.js';
import { CliError } from './cli-error.js';
import { connectForCli, resolveRedisUrl } from './cli-redis.js';
import { TLS_FLAG_OPTIONS, tlsFlagsHelp, useTlsFlags } from './cli-tls.js';

/** parseArgs options of the shared flags. */
export const ADMIN_FLAG_OPTIONS = {
  redis: { type: 'string' },
  peer: { type: 'string' },
  namespace: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  ...TLS_FLAG_OPTIONS,
} as const;

/** Help lines of the shared flags. */
export const ADMIN_FLAGS_HELP = `  --redis URL          Redis URL (default: KIQGATE_REDIS_URL, else REDIS_URL, else
                       redis://127.0.0.1:6379)
  --peer P             whose keys to read: sidekiq6 | sidekiq7 (default) | sidekiq8 |
                       verk | exq | resque (the layout, as for the worker)
  --namespace NS       key prefix (default: none; exq for exq, resque for resque)
  --json               print JSON (for scripts) instead of a table
${tlsFlagsHelp(23)}
  -h, --help           this text
  --version            kiqgate's version`;

export interface AdminFlagValues {
  redis?: string | undefined;
  peer?: string | undefined;
  namespace?: string | undefined;
  'tls-ca'?: string | undefined;
  'tls-cert'?: string | undefined;
  'tls-key'?: string | undefined;
}

/** Connects (one clear line when Redis does not answer) and opens an Admin on the chosen layout. */
export async function openAdmin(values: AdminFlagValues): Promise<{ admin: Admin; redis: Redis }> {
  const peer = values.peer ?? 'sidekiq7';
  if (!isPeer(peer)) throw new CliError(`--peer must be one of ${PEERS.join(', ')}; got ${JSON.stringify(peer)}`);
  if (values.namespace !== undefined && values.namespace.trim() === '') throw new CliError('--namespace must not be empty (leave it out for no prefix)');
  try {
    checkEnvNames(process.env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
  useTlsFlags(values);
  const redis = await connectForCli(resolveRedisUrl(values.redis));
  return { admin: new Admin({ redis, peer, ...(values.namespace !== undefined ? { namespace: values.namespace } : {}) }), redis };
}

/** Runs `fn` with an Admin, closes its connection, and maps AdminError to a CliError. */
export async function withAdmin<T>(values: AdminFlagValues, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const { admin, redis } = await openAdmin(values);
  try {
    return await fn(admin);
  } catch (err) {
    if (err instanceof AdminError) throw new CliError(err.message, err.code === 'unsupported' ? 2 : 1);
    throw err;
  } finally {
    redis.disconnect();
  }
}

/** JSON on stdout, one document. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A positive integer flag, or a one-line error naming it. */
export function positiveInt(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new CliError(`${flag} must be a positive integer, got ${JSON.stringify(v)}`);
  return Number(v);
}
