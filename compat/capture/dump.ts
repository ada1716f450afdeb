/**
 * Dumps every key of a Redis db in the `state` format of shared/fixtures/FORMAT.md: type,
 * `ttl_ms` (PTTL) and value; sets sorted, zset members as [member, score] sorted by score.
 */
import type { Redis } from 'ioredis';
import { wireValue, type WireValue } from './monitor.js';

export type KeyState =
  | { type: 'string'; ttl_ms: number; value: WireValue }
  | { type: 'list'; ttl_ms: number; value: WireValue[] }
  | { type: 'set'; ttl_ms: number; value: WireValue[] }
  | { type: 'zset'; ttl_ms: number; value: Array<[WireValue, number]> }
  | { type: 'hash'; ttl_ms: number; value: Record<string, WireValue> };

export type DbState = Record<string, KeyState>;

const sortKey = (v: WireValue) => (typeof v === 'string' ? v : `\uffff${v.base64}`);
const byText = (a: WireValue, b: WireValue) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0);

export async function dumpState(redis: Redis): Promise<DbState> {
  const keys: Buffer[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scanBuffer(cursor, 'COUNT', 1000);
    cursor = String(next);
    keys.push(...batch);
  } while (cursor !== '0');
  keys.sort(Buffer.compare);

  const state: DbState = {};
  for (const key of keys) {
    const name = key.toString('utf8');
    const type = await redis.type(key);
    const ttl_ms = await redis.pttl(key);
    switch (type) {
      case 'string':
        state[name] = { type, ttl_ms, value: wireValue((await redis.getBuffer(key))!) };
        break;
      case 'list':
        state[name] = { type, ttl_ms, value: (await redis.lrangeBuffer(key, 0, -1)).map(wireValue) };
        break;
      case 'set':
        state[name] = { type, ttl_ms, value: (await redis.smembersBuffer(key)).map(wireValue).sort(byText) };
        break;
      case 'zset': {
        const flat = await redis.zrangeBuffer(key, 0, -1, 'WITHSCORES');
        const pairs: Array<[WireValue, number]> = [];
        for (let i = 0; i < flat.length; i += 2) pairs.push([wireValue(flat[i]!), Number(flat[i + 1]!.toString())]);
        pairs.sort((a, b) => a[1] - b[1] || byText(a[0], b[0]));
        state[name] = { type, ttl_ms, value: pairs };
        break;
      }
      case 'hash': {
        const flat = (await redis.callBuffer('HGETALL', key)) as Buffer[];
        const value: Record<string, WireValue> = {};
        for (let i = 0; i < flat.length; i += 2) value[flat[i]!.toString('utf8')] = wireValue(flat[i + 1]!);
        state[name] = { type, ttl_ms, value };
        break;
      }
      default:
        throw new Error(`dumpState: key ${name} has type ${type}, which FORMAT.md does not cover`);
    }
  }
  return state;
}
