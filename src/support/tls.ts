/**
 * TLS for Redis connections: where the CA, the client certificate and its key come from.
 *
 * - `rediss://` alone: TLS with the system's CAs (ioredis's default);
 * - `KIQGATE_TLS_CA`, `KIQGATE_TLS_CERT`, `KIQGATE_TLS_KEY` (file paths) apply to every
 *   connection kiqgate opens from a URL or from options without their own `tls`, and setting
 *   any of them turns TLS on (as ioredis's `tls` option does, whatever the URL's scheme);
 * - the API takes ioredis options as they are: `{ host, port, tls: { ca, cert, key } }`, or
 *   {@link redisOptionsFromUrl} to keep a URL and add files.
 *
 * Errors name the variable and the path, never a file's content.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { RedisOptions } from 'ioredis';

/** Paths of PEM files. */
export interface TlsFiles {
  /** CA certificate(s) the server's certificate must chain to. */
  ca?: string | undefined;
  /** Client certificate (for `tls-auth-clients yes`). */
  cert?: string | undefined;
  /** The client certificate's private key. */
  key?: string | undefined;
}

/** The environment variable of each file. */
export const TLS_ENV = { ca: 'KIQGATE_TLS_CA', cert: 'KIQGATE_TLS_CERT', key: 'KIQGATE_TLS_KEY' } as const;

/** A TLS file that cannot be used: says which one and why, nothing of its content. */
export class TlsConfigError extends Error {
  override readonly name = 'TlsConfigError';
}

/** The TLS files named in the environment (unset or empty variables are left out). */
export function tlsFilesFromEnv(env: NodeJS.ProcessEnv = process.env): TlsFiles {
  const out: TlsFiles = {};
  for (const which of ['ca', 'cert', 'key'] as const) {
    const v = env[TLS_ENV[which]];
    if (v) out[which] = v;
  }
  return out;
}

export function hasTlsFiles(files: TlsFiles): boolean {
  return Boolean(files.ca || files.cert || files.key);
}

/**
 * What each file must hold. Node takes these as PEM only and silently ignores anything else in
 * a CA file, which then showed up as a handshake that never verified ("connect ETIMEDOUT").
 */
const PEM_BLOCK = {
  ca: /-----BEGIN (TRUSTED )?CERTIFICATE-----/,
  cert: /-----BEGIN (TRUSTED )?CERTIFICATE-----/,
  key: /-----BEGIN ([A-Z]+ )*PRIVATE KEY-----/,
} as const;
const PEM_WHAT = { ca: 'a PEM certificate', cert: 'a PEM certificate', key: 'a PEM private key' } as const;

/**
 * Reads the PEM files into Node TLS options (`{ ca, cert, key }` as Buffers), ready for
 * ioredis's `tls` option. `source` names where the paths came from, for the error message.
 */
export function readTlsFiles(files: TlsFiles, source = 'tls options'): ConnectionOptions {
  if (Boolean(files.cert) !== Boolean(files.key)) {
    throw new TlsConfigError(`a client certificate and its key go together (${source}): set both ${TLS_ENV.cert} and ${TLS_ENV.key} (or --tls-cert and --tls-key)`);
  }
  const out: ConnectionOptions = {};
  for (const which of ['ca', 'cert', 'key'] as const) {
    const path = files[which];
    if (!path) continue;
    let content: Buffer;
    try {
      content = readFileSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new TlsConfigError(`cannot read the TLS ${which} file ${path} (${source}, ${TLS_ENV[which]}): ${code}`);
    }
    if (!PEM_BLOCK[which].test(content.toString('latin1'))) {
      throw new TlsConfigError(`the TLS ${which} file ${path} (${source}, ${TLS_ENV[which]}) is not ${PEM_WHAT[which]}: expected a "-----BEGIN ${which === 'key' ? 'PRIVATE KEY' : 'CERTIFICATE'}-----" block (a DER file converts with openssl ${which === 'key' ? 'pkey' : 'x509'} -inform der -in FILE -out FILE.pem)`);
    }
    out[which] = content;
  }
  return out;
}


/** `{ tls }` from the KIQGATE_TLS_* files, or nothing when none is set. */
export function envTlsOptions(env: NodeJS.ProcessEnv = process.env): Pick<RedisOptions, 'tls'> {
  const files = tlsFilesFromEnv(env);
  return hasTlsFiles(files) ? { tls: readTlsFiles(files, 'environment') } : {};
}

/**
 * ioredis options for a URL (host, port, username, password, db; TLS for `rediss://`), with
 * TLS files added: for the API, where `redis` is either a URL or options.
 */
export function redisOptionsFromUrl(url: string, files: TlsFiles = {}): RedisOptions {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new TlsConfigError(`expected a redis:// or rediss:// URL, got ${u.protocol}//`);
  const opts: RedisOptions = { host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: u.port ? Number(u.port) : 6379 };
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.password) opts.password = decodeURIComponent(u.password);
  if (u.pathname.length > 1) opts.db = Number(u.pathname.slice(1));
  if (hasTlsFiles(files)) opts.tls = readTlsFiles(files);
  else if (u.protocol === 'rediss:') opts.tls = {};
  return opts;
}
