/**
 * Timestamps as each peer writes them, and one reader for all of them.
 *
 * Sidekiq 6/7 write float seconds (`1795872486.590039`, always with a decimal point, Ruby's
 * Float#to_s), Sidekiq 8 integer milliseconds, Verk integer seconds, Exq float seconds. A JS
 * number cannot tell `1700000000.0` from `1700000000`, so the reader decides on the token: a
 * fraction or exponent means seconds; an integer above MS_THRESHOLD (1e11) means milliseconds
 * (1e11 s is the year 5138, 1e11 ms is 1973); a smaller integer means seconds.
 */
import { JsonNumber, JsonString, type JsonValue, formatNumber } from './json.js';

/** How a peer writes job timestamps (`created_at`, `enqueued_at`, `failed_at`, `retried_at`). */
export type TimeUnit = 'float_s' | 'int_ms' | 'int_s';

/**
 * The one seconds/milliseconds threshold of the code base: an epoch number above it (in
 * absolute value) is milliseconds, anything else seconds. 1e11 s is the year 5138, 1e11 ms is
 * 1973, so no real timestamp of either unit falls on the wrong side.
 */
export const MS_THRESHOLD = 1e11;

/** Whether the epoch number `n` is in milliseconds (else seconds); see {@link MS_THRESHOLD}. */
export function isEpochMilliseconds(n: number): boolean {
  return Math.abs(n) > MS_THRESHOLD;
}

/** The current time in epoch milliseconds with sub-millisecond precision. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Which unit a timestamp token was written in, or undefined when it is not a timestamp. */
export function timeUnitOf(v: JsonValue | undefined): TimeUnit | undefined {
  if (!(v instanceof JsonNumber)) return undefined;
  if (!v.isInteger) return 'float_s';
  return isEpochMilliseconds(Number(v.raw)) ? 'int_ms' : 'int_s';
}

/**
 * Reads any peer's timestamp as epoch milliseconds. Accepts float seconds, integer ms, integer
 * seconds, and the string forms some producers use (a numeric string, or ISO 8601 as Rails
 * writes). Returns undefined for null, a missing field, or anything unreadable.
 */
export function readTimestamp(v: JsonValue | undefined): number | undefined {
  if (v instanceof JsonNumber) {
    const n = Number(v.raw);
    if (!Number.isFinite(n)) return undefined;
    if (!v.isInteger) return n * 1000;
    return isEpochMilliseconds(n) ? n : n * 1000;
  }
  const s = typeof v === 'string' ? v : v instanceof JsonString ? v.value : undefined;
  if (s === undefined || s === '') return undefined;
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s)) return readTimestamp(new JsonNumber(s));
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** Float seconds as Ruby's Float#to_s writes them: shortest round-trip digits, always a `.`. */
export function floatSeconds(ms: number): string {
  const s = formatNumber(ms / 1000);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/** Writes epoch milliseconds as a timestamp token in the given unit. */
export function timestampToken(ms: number, unit: TimeUnit): JsonNumber {
  switch (unit) {
    case 'float_s': return new JsonNumber(floatSeconds(ms));
    case 'int_ms': return new JsonNumber(String(Math.floor(ms)));
    case 'int_s': return new JsonNumber(String(Math.floor(ms / 1000)));
  }
}

/** A sorted-set score (Sidekiq: float seconds in every version, including 8). */
export function scoreSeconds(ms: number): string {
  return floatSeconds(ms);
}
