/**
 * "Now" for a move: Redis `TIME`, as the scheduler uses, so scores and `enqueued_at` written by
 * an operator's machine agree with the workers' clocks even when that machine's clock is off.
 */
import type { Redis } from 'ioredis';

/** Redis TIME in epoch milliseconds (sub-millisecond precision). */
export async function redisNowMs(redis: Redis): Promise<number> {
  const [sec, usec] = (await redis.time()) as unknown as [string | number, string | number];
  return Number(sec) * 1000 + Number(usec) / 1000;
}
