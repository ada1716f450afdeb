/**
 * Why a connection that looked right failed, in words that point at the cause: a server that
 * is not Redis (ioredis says "Protocol error ... Please report this"), a plain Redis behind a
 * rediss:// URL (the TLS handshake just waits: plain Redis buffers the ClientHello as the start
 * of an inline command, so it was "connect ETIMEDOUT"), a DB index the server does not have
 * (ioredis only emits an error event and goes on in DB 0).
 */
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Redis } from 'ioredis';

/** A server's reply refusing the login or the user's rights (WRONGPASS, NOAUTH, NOPERM, ...). */
export const LOGIN_REFUSED = /WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username/i;

/** An error about the server's certificate: the server does speak TLS, the trust settings are off. */
export function isCertificateError(err: unknown): boolean {
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  return /CERT|SELF_SIGNED|UNABLE_TO|HOSTNAME|ALTNAME/.test(code) || /certificate/i.test(err instanceof Error ? err.message : String(err));
}

/** The server answered, and its answer shows the configuration is wrong for it. One line, password-free. */
export class RedisMismatchError extends Error {
  override readonly name = 'RedisMismatchError';
}

/** The first bytes of `buf` as a quoted, escaped string (printable ASCII kept). */
export function showBytes(buf: Uint8Array, max = 40): string {
  let s = '';
  for (const b of buf.subarray(0, max)) {
    if (b === 0x0d) s += '\\r';
    else if (b === 0x0a) s += '\\n';
    else if (b === 0x22 || b === 0x5c) s += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `"${s}"${buf.length > max ? '…' : ''}`;
}

const NOT_REDIS_FIX = 'check the host and port of the Redis URL';

/** What a server's first bytes say it is, when that is not Redis. */
function notRedisLine(bytes: Uint8Array, where: string): string {
  // A TLS record (alert 0x15 or handshake 0x16, version 3.x): a TLS-only Redis got plain text.
  if ((bytes[0] === 0x15 || bytes[0] === 0x16) && bytes[1] === 0x03) {
    return `the server at ${where} speaks TLS, not plain Redis (use rediss://, with --tls-ca or KIQGATE_TLS_CA when its certificate is not from a public CA)`;
  }
  return `the server at ${where} does not speak the Redis protocol (is it Redis? got: ${showBytes(bytes)}); ${NOT_REDIS_FIX}`;
}

/**
 * For a redis-parser ParserError (a reply that is not RESP), the line saying so, with what the
 * server sent; undefined for any other error. The parser keeps the buffer as JSON of a Buffer.
 */
export function notRedisMessage(err: unknown, where: string): string | undefined {
  const e = err as { name?: unknown; message?: unknown; buffer?: unknown } | null;
  if (!e || (e.name !== 'ParserError' && !/^Protocol error/.test(String(e.message)))) return undefined;
  try {
    const data = (JSON.parse(String(e.buffer)) as { data?: number[] }).data;
    if (Array.isArray(data)) return notRedisLine(Uint8Array.from(data), where);
  } catch { /* no buffer: say it without the bytes */ }
  return `the server at ${where} does not speak the Redis protocol (is it Redis?); ${NOT_REDIS_FIX}`;
}

/** The first bytes host:port sends back to a plain-TCP PING (empty when it closes or resets first). */
export function pingBytes(host: string, port: number, timeoutMs = 2000): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (bytes: Uint8Array) => { socket.destroy(); resolve(bytes); };
    socket.setTimeout(timeoutMs, () => done(new Uint8Array()));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d: Buffer) => done(d));
    socket.once('error', () => done(new Uint8Array()));
    socket.once('close', () => done(new Uint8Array()));
  });
}

/** Whether host:port completes a TLS handshake (certificate not checked: only the protocol is asked). */
function completesTlsHandshake(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, servername: /^[\d.:]+$/.test(host) ? undefined : host });
    const done = (yes: boolean) => { socket.destroy(); resolve(yes); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** A RESP simple string or error (+PONG, -NOAUTH, -DENIED ...): a plain Redis answered. */
function isPlainRedisReply(bytes: Uint8Array): boolean {
  return bytes[0] === 0x2b || bytes[0] === 0x2d;
}

/** Whether a plain-TCP PING to host:port gets a RESP reply back. */
export async function answersPlainRedis(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return isPlainRedisReply(await pingBytes(host, port, timeoutMs));
}

/**
 * A plain connection that the server reset or closed before the Redis handshake finished: a
 * non-Redis server that replied and hung up (an HTTP server answers 400 and resets, and the
 * reset can overtake its reply), or a TLS-only one. A second look with a PING says which.
 */
export async function closedEarlyMessage(err: unknown, host: string, port: number, where: string): Promise<string | undefined> {
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  const msg = err instanceof Error ? err.message : String(err);
  if (code !== 'ECONNRESET' && code !== 'EPIPE' && !/Connection is closed/.test(msg)) return undefined;
  const bytes = await pingBytes(host, port);
  if (bytes.length === 0) {
    // A TLS-only Redis drops plain text without a word; a TLS handshake tells it apart.
    if (await completesTlsHandshake(host, port)) return notRedisLine(Uint8Array.of(0x15, 0x03), where);
    return `the server at ${where} closed the connection without answering as Redis (is it Redis?); ${NOT_REDIS_FIX}`;
  }
  return isPlainRedisReply(bytes) ? undefined : notRedisLine(bytes, where);
}

/**
 * Watches a TLS connection attempt: when the handshake has not finished after `afterMs`, or when
 * it fails, checks whether host:port is a plain Redis. Started late so a TLS server that answers
 * promptly never receives the plain PING (which it would log as a failed handshake).
 */
export class PlainServerProbe {
  private timer: NodeJS.Timeout | undefined;
  private result: Promise<boolean> | undefined;

  constructor(private readonly redis: Redis, private readonly host: string, private readonly port: number, afterMs = 500) {
    this.timer = setTimeout(() => {
      if (redis.status === 'ready') return;
      void this.check().then((plain) => { if (plain && redis.status !== 'ready') redis.disconnect(); });
    }, afterMs);
  }

  /** Whether the server answered as plain Redis (probing now if not done yet). */
  check(): Promise<boolean> {
    this.cancel();
    return (this.result ??= answersPlainRedis(this.host, this.port));
  }

  cancel(): void {
    clearTimeout(this.timer);
  }

  message(where: string): string {
    return `TLS handshake failed: the server at ${where} does not speak TLS, it answers as plain Redis (use redis:// and no --tls-ca/--tls-cert/--tls-key or KIQGATE_TLS_* for a plain server)`;
  }
}

/**
 * Checks that the connection can use DB `db`: ioredis SELECTs it on connect but on failure only
 * emits an error event and goes on in DB 0. Rejects with a RedisMismatchError naming the DB,
 * the server's own error and, when CONFIG may be read, how many databases the server has.
 */
export async function checkDb(redis: Redis, db: number, shownUrl: string): Promise<void> {
  if (db === 0) return;
  try {
    await redis.select(db);
  } catch (err) {
    let count = '';
    try {
      const reply = (await redis.config('GET', 'databases')) as unknown as string[];
      const n = Number(reply[1]);
      if (Number.isInteger(n) && n > 0) count = ` (the server has ${n} databases, 0-${n - 1})`;
    } catch { /* CONFIG may be disabled or not allowed: the server's own error stands alone */ }
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new RedisMismatchError(`cannot use Redis DB ${db} at ${shownUrl}: ${reason}${count}`);
  }
}
