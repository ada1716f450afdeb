/**
 * The worker's first contact with Redis: wait for an answer, fail fast on what waiting cannot
 * fix (a refused login, a DB the server does not have), and fail with the address named when
 * nothing answers in time.
 */
import type { Redis } from 'ioredis';
import { LOGIN_REFUSED, checkDb } from '../support/connect-diagnosis.js';
import { redactText } from '../support/redact.js';

/**
 * Waits until Redis answers a PING. Fails at once on a rejected login, and after `timeoutMs`
 * (0: never) when nothing answers, with an error naming `where` (the redacted address), so a
 * misconfigured worker says so instead of hanging in start() (and in stop() after it).
 */
export async function awaitRedis(redis: Redis, where: string, timeoutMs: number): Promise<void> {
  let lastError = '';
  let onError!: (err: Error) => void;
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    onError = (err: Error) => {
      lastError = redactText(err.message);
      if (LOGIN_REFUSED.test(err.message)) {
        reject(new Error(`Redis at ${where} refused the login: ${lastError}`));
      }
    };
    redis.on('error', onError);
    if (timeoutMs > 0) {
      timer = setTimeout(() => reject(new Error(`Redis at ${where} did not answer within ${timeoutMs} ms${lastError ? ` (${lastError})` : ''}`)), timeoutMs);
    }
  });
  const ping = redis.ping();
  ping.catch(() => {}); // when the race is lost, the disconnect rejects it: not an unhandled rejection
  try {
    await Promise.race([ping, failed]);
  } catch (err) {
    const msg = redactText(err instanceof Error ? err.message : String(err));
    if (msg.startsWith(`Redis at ${where}`)) throw err;
    if (LOGIN_REFUSED.test(msg)) throw new Error(`Redis at ${where} refused the login: ${msg}`);
    throw new Error(`Redis at ${where} failed: ${msg}`);
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
  }
  // ioredis only logs a failed SELECT and goes on in DB 0: a DB the server lacks must not run.
  await checkDb(redis, Number(redis.options.db ?? 0), where);
}
