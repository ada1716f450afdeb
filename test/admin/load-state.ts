/**
 * Loads a captured fixture's final Redis state into a test namespace, as its runtime left it:
 * the runtime's own prefix (`exq:`, `resque:`) is replaced by the namespace, so an Admin with
 * that `namespace` and the fixture's peer reads exactly the captured keys and bytes.
 */
import type { Redis } from 'ioredis';
import type { Fixture } from '../support/fixtures.js';
import { type Dialect } from '../../src/wire/index.js';

/** The fixture's value of a state entry as bytes (base64 when not UTF-8). */
const bytes = (v: unknown): Buffer => (typeof v === 'string' ? Buffer.from(v) : Buffer.from((v as { base64: string }).base64, 'base64'));

/** Writes every list, zset, set, string and hash of `f.state` under `ns`; returns the keys written. */
export async function loadState(redis: Redis, f: Fixture, layout: Dialect, ns: string): Promise<string[]> {
  const own = layout.defaultNamespace ? `${layout.defaultNamespace}:` : '';
  const written: string[] = [];
  for (const [key, entry] of Object.entries(f.state)) {
    if (own && !key.startsWith(own)) continue; // Exq's `:processes`-style keys outside its prefix
    const to = `${ns}:${key.slice(own.length)}`;
    const e = entry as { type: string; value: unknown };
    if (e.type === 'zset') for (const [m, s] of e.value as Array<[unknown, number]>) await redis.zadd(to, String(s), bytes(m));
    else if (e.type === 'list') for (const m of e.value as unknown[]) await redis.rpush(to, bytes(m));
    else if (e.type === 'set') for (const m of e.value as unknown[]) await redis.sadd(to, bytes(m));
    else if (e.type === 'string') await redis.set(to, bytes(e.value));
    else if (e.type === 'hash') for (const [k, v] of Object.entries(e.value as Record<string, unknown>)) await redis.hset(to, k, bytes(v));
    else continue;
    written.push(to);
  }
  return written;
}
