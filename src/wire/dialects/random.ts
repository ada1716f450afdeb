/**
 * CSPRNG bytes for job ids, drawn in blocks: one randomFillSync per 4 KiB instead of a
 * syscall-backed call per jid (a per-call randomBytes(12) was a fifth of a one-at-a-time
 * enqueue's CPU).
 */
import { randomFillSync } from 'node:crypto';

const POOL = Buffer.alloc(4096);
let poolOffset = POOL.length;

/** `n` fresh random bytes (a view into the pool: read them before the next call). */
export function randomSlice(n: number): Buffer {
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

/** `chars` random lowercase hex characters. */
export function randomHex(chars: number): string {
  if (hexOffset + chars > hexPool.length) {
    hexPool = randomSlice(2048).toString('hex');
    hexOffset = 0;
  }
  const out = hexPool.slice(hexOffset, hexOffset + chars);
  hexOffset += chars;
  return out;
}
