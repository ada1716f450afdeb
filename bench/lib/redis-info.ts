/** Reading the figures the cost workload needs from Redis's INFO. */
import type { Redis } from 'ioredis';

function field(info: string, name: string): number {
  const m = new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info);
  if (!m) throw new Error(`INFO has no ${name}`);
  return Number(m[1]);
}

/** Redis's own CPU time so far (used_cpu_sys + used_cpu_user), µs. */
export async function redisCpuUs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  return (field(info, 'used_cpu_sys') + field(info, 'used_cpu_user')) * 1e6;
}

/** Bytes allocated by Redis (used_memory). */
export async function redisUsedMemory(redis: Redis): Promise<number> {
  return field(await redis.info('memory'), 'used_memory');
}

export async function redisVersion(redis: Redis): Promise<string> {
  const m = /^redis_version:(\S+)/m.exec(await redis.info('server'));
  return m?.[1] ?? 'unknown';
}
