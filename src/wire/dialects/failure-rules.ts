/**
 * What every dialect's failure handling shares: the outcome types (with their destination),
 * the causes that decide whether a job's own retry/dead settings apply, and the guards that
 * keep a retry score one Redis takes.
 */
import { deflateSync } from 'node:zlib';
import { JsonNumber, type JsonObject } from '../json.js';
import type { Peer } from '../peers.js';

/**
 * Why the job failed, which decides whether the job's own `retry`/`dead` settings apply:
 * - `handler`: the handler ran and threw: the job's settings apply (the runtime's rules);
 * - `unknown_class`: no handler is registered for the class (a deployment mistake, not the
 *   job's failure): never dropped. It retries with the default maximum even when the job says
 *   `retry: false` (the handler never ran, so a retry cannot run it twice), and goes to dead
 *   when retries are exhausted even when it says `dead: false`;
 * - `invalid_args`: the args fail the class's schema: retrying cannot help, so the job goes to
 *   dead at once, whatever its `retry`/`dead` settings (never dropped).
 */
export type FailureCause = 'handler' | 'unknown_class' | 'invalid_args';

/** What went wrong in one run. */
export interface FailureInfo {
  errorMessage: string;
  errorClass: string;
  /** Stack lines, most recent call first (written only when the job asks for a backtrace). */
  backtrace?: string[];
  /** Every stack line, for a consumer that always records them (Resque's `backtrace`). */
  stack?: string[];
  /** Why it failed (default `handler`); see {@link FailureCause}. */
  cause?: FailureCause;
}

/** Dead-set limits: entries kept, and the max age in seconds of an entry (by its score). */
export interface DeadLimits { maxJobs: number; timeoutSeconds: number }

/**
 * What a failure becomes; `kind` is also where the entry goes:
 * - `retry`: ZADD to the `retry` sorted set at `scoreSeconds`;
 * - `dead`: ZADD to the `dead` sorted set at `scoreSeconds`, then trimmed with `limits` (the
 *   consumer dialect's, {@link DeadLimits});
 * - `failed-list`: RPUSH onto the `failed` list (Resque's failure store), with its failed counters;
 * - `drop`: nothing is written (Sidekiq's `retry: false`, `dead: false`).
 */
export type FailureOutcome =
  | { kind: 'retry'; payload: string; retryCount: number; scoreSeconds: string; runAtMs: number }
  | { kind: 'dead'; payload: string; retryCount: number; scoreSeconds: string; limits: DeadLimits }
  | { kind: 'failed-list'; payload: string; retryCount: number }
  | { kind: 'drop'; reason: string; retryCount: number };

export interface FailurePolicy {
  /** Max retries when the job says `retry: true` (Sidekiq's max_retries, Verk's max_retry_count). */
  defaultMaxRetries: number;
  /** A per-class override of the next run time: (failedAt ms, new retry_count) → epoch ms. */
  retryAt?: (failedAtMs: number, retryCount: number) => number;
  /**
   * The runtime kiqgate stands in for (the worker's `peer`): its rules decide the entry's shape
   * and destination, whoever produced the job. Default: the job's own (detected) dialect.
   */
  consumer?: Peer;
  /** The worker's identity, for a consumer whose entries name it (Resque's `worker`). */
  worker?: string;
}

/** error_message is cut to this many characters (Sidekiq's `[0, 10_000]`). */
export const MAX_ERROR_MESSAGE = 10_000;

/** The latest retry time: JavaScript's last Date (year 275760), a score every peer reads. */
const MAX_RUN_AT_MS = 8.64e15;
/** crypto.randomInt's largest range; Sidekiq 8's jitter range grows with retry_count. */
const MAX_JITTER = 2 ** 47;

/** `n` as a range crypto.randomInt takes: a whole number from 1 to MAX_JITTER (a hostile or
 * hand-edited retry_count may be negative, fractional or huge). */
export function jitterRange(n: number): number {
  const whole = Math.floor(n);
  return whole >= 1 ? Math.min(whole, MAX_JITTER) : 1;
}

/**
 * Whether a retry can be scheduled at `runAtMs`. A retry_count so large that the backoff
 * overflows (or a class retryAt far beyond any date) makes the job exhausted: dead, not a
 * score Redis refuses (`inf`) that would leave the job in in-progress to re-run forever.
 */
export function retryTimeOk(runAtMs: number): boolean {
  return runAtMs <= MAX_RUN_AT_MS; // false for NaN and Infinity too
}

/** Sidekiq's error_backtrace: zlib-deflated JSON array of lines, Base64 (MIME-wrapped up to 7.2.0). */
export function encodeBacktrace(lines: string[], style: 'mime' | 'strict'): string {
  const b64 = deflateSync(Buffer.from(JSON.stringify(lines))).toString('base64');
  if (style === 'strict') return b64;
  return b64.replace(/.{1,60}/g, '$&\n');
}

/** An integer JSON token. */
export function int(n: number): JsonNumber {
  return new JsonNumber(String(n));
}

/** Number of backtrace lines the job asks for: `backtrace: true` → all, N → N, else none. */
export function backtraceLimit(doc: JsonObject): number | undefined {
  const bt = doc.get('backtrace');
  if (bt === true) return Infinity;
  if (bt instanceof JsonNumber && bt.isInteger && Number(bt.raw) > 0) return Number(bt.raw);
  return undefined;
}
