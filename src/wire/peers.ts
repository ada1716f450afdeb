/**
 * The peers kiqgate speaks with, and what differs between them on the wire.
 * One table, so a difference is stated once and looked up everywhere.
 */
import { randomFillSync, randomUUID } from 'node:crypto';
import type { TimeUnit } from './timestamps.js';

/** A target or source dialect: the runtime and version that writes or reads a payload. */
export type Peer = 'sidekiq6' | 'sidekiq7' | 'sidekiq8' | 'verk' | 'exq' | 'resque';

export const PEERS: readonly Peer[] = ['sidekiq6', 'sidekiq7', 'sidekiq8', 'verk', 'exq', 'resque'];

export interface PeerTraits {
  readonly family: 'sidekiq' | 'verk' | 'exq' | 'resque';
  /**
   * The release line of that family this dialect is: leading version components, `x` for any
   * (`6.x` is every 6.*, `1.7` is every 1.7.*; `3.0|2.7`: either line). What the compat suite holds a fixture's
   * system/version to: a version outside every line is not spoken.
   */
  readonly versions: string;
  /** Unit of created_at / enqueued_at / failed_at / retried_at. */
  readonly timeUnit: TimeUnit;
  /** retry_count written on the first failure (Sidekiq 0, Verk and Exq 1). */
  readonly firstRetryCount: number;
  /** Whether an immediate push also does `SADD queues <q>` (Verk never touches `queues`). */
  readonly addsToQueuesSet: boolean;
  /** Process heartbeat period in seconds (Sidekiq's BEAT_PAUSE). */
  readonly beatSeconds: number;
  /** Name of the busy-work hash suffix (`<identity>:workers` in 6.4.0–6.4.1, `:work` after). */
  readonly workKeySuffix: string;
  /** error_backtrace Base64 style: MIME (newline every 60 chars) up to 7.2.0, strict after. */
  readonly backtraceBase64: 'mime' | 'strict' | 'text';
  /** Default dead-set limits (count kept, max age in seconds). */
  readonly deadMaxJobs: number;
  readonly deadTimeoutSeconds: number;
}

export const PEER_TRAITS: Readonly<Record<Peer, PeerTraits>> = {
  sidekiq6: { family: 'sidekiq', versions: '6.x', timeUnit: 'float_s', firstRetryCount: 0, addsToQueuesSet: true, beatSeconds: 5, workKeySuffix: ':workers', backtraceBase64: 'mime', deadMaxJobs: 10_000, deadTimeoutSeconds: 15_552_000 },
  sidekiq7: { family: 'sidekiq', versions: '7.x', timeUnit: 'float_s', firstRetryCount: 0, addsToQueuesSet: true, beatSeconds: 10, workKeySuffix: ':work', backtraceBase64: 'strict', deadMaxJobs: 10_000, deadTimeoutSeconds: 15_552_000 },
  sidekiq8: { family: 'sidekiq', versions: '8.x', timeUnit: 'int_ms', firstRetryCount: 0, addsToQueuesSet: true, beatSeconds: 10, workKeySuffix: ':work', backtraceBase64: 'strict', deadMaxJobs: 10_000, deadTimeoutSeconds: 15_552_000 },
  verk: { family: 'verk', versions: '1.7', timeUnit: 'int_s', firstRetryCount: 1, addsToQueuesSet: false, beatSeconds: 30, workKeySuffix: ':work', backtraceBase64: 'text', deadMaxJobs: 100, deadTimeoutSeconds: 604_800 },
  exq: { family: 'exq', versions: '0.23', timeUnit: 'float_s', firstRetryCount: 1, addsToQueuesSet: true, beatSeconds: 5, workKeySuffix: ':workers', backtraceBase64: 'text', deadMaxJobs: 10_000, deadTimeoutSeconds: 15_552_000 },
  // Resque (issue 16): jobs carry no timestamps, retries or jid; the timing/retry/dead fields
  // below apply only to what kiqgate itself writes in Sidekiq's sets for such a job when the
  // worker stands in for Sidekiq. Everything Resque-specific is in dialects/resque.ts.
  resque: { family: 'resque', versions: '3.0|2.7', timeUnit: 'float_s', firstRetryCount: 0, addsToQueuesSet: true, beatSeconds: 60, workKeySuffix: ':work', backtraceBase64: 'strict', deadMaxJobs: 10_000, deadTimeoutSeconds: 15_552_000 },
};

export function isPeer(v: unknown): v is Peer {
  return typeof v === 'string' && (PEERS as readonly string[]).includes(v);
}

// CSPRNG bytes drawn in blocks: one randomFillSync per 4 KiB instead of a syscall-backed call
// per jid (a per-call randomBytes(12) was a fifth of a one-at-a-time enqueue's CPU).
const POOL = Buffer.alloc(4096);
let poolOffset = POOL.length;

function randomSlice(n: number): Buffer {
  if (poolOffset + n > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const out = POOL.subarray(poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
}

// The same CSPRNG bytes for Sidekiq's hex jids, hex-encoded a block at a time: one hex
// conversion per 2 KiB of random bytes instead of a Buffer slice and conversion per jid.
let hexPool = '';
let hexOffset = 0;

function randomHex(chars: number): string {
  if (hexOffset + chars > hexPool.length) {
    hexPool = randomSlice(2048).toString('hex');
    hexOffset = 0;
  }
  const out = hexPool.slice(hexOffset, hexOffset + chars);
  hexOffset += chars;
  return out;
}

/** A new job id in the peer's own shape, from a CSPRNG. */
export function newJid(peer: Peer): string {
  switch (PEER_TRAITS[peer].family) {
    case 'sidekiq':
      return randomHex(24); // SecureRandom.hex(12): 24 lowercase hex
    case 'verk': {
      // Verk: 8 random bytes as two unsigned 32-bit big-endian integers, printed in decimal, concatenated.
      const b = randomSlice(8);
      return `${b.readUInt32BE(0)}${b.readUInt32BE(4)}`;
    }
    case 'exq':
      return randomUUID();
    case 'resque':
      // Resque jobs have no id; kiqgate derives one from the bytes (dialects/resque.ts) and
      // never writes it. This one only names kiqgate's own entries.
      return randomHex(24);
  }
}
