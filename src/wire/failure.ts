/**
 * What a failed job becomes, in the dialect of the peer that wrote it: the retry or dead entry
 * that peer's own tools (Sidekiq's RetrySet and Web UI, Verk's RetrySet) can read and retry.
 *
 * Pure functions, no I/O: the engine decides *when* and writes the result atomically.
 * The entry is the original document with fields set in place or appended (never a rebuilt
 * object), so every value the peer wrote survives byte for byte.
 */
import { randomInt } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { DecodedJob } from './decode.js';
import { JsonNumber, JsonObject, type JsonValue, stringifyJson } from './json.js';
import { PEER_TRAITS, type Peer } from './peers.js';
import { floatSeconds, timestampToken } from './timestamps.js';

/**
 * Why the job failed, which decides whether the job's own `retry`/`dead` settings apply:
 * - `handler`: the handler ran and threw: the job's settings apply (Sidekiq's rules);
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
  /** Why it failed (default `handler`); see {@link FailureCause}. */
  cause?: FailureCause;
}

export interface FailurePolicy {
  /** Max retries when the job says `retry: true` (Sidekiq's max_retries, Verk's max_retry_count). */
  defaultMaxRetries: number;
  /** A per-class override of the next run time: (failedAt ms, new retry_count) → epoch ms. */
  retryAt?: (failedAtMs: number, retryCount: number) => number;
}

export type FailureOutcome =
  | { kind: 'retry'; payload: string; retryCount: number; scoreSeconds: string; runAtMs: number }
  /** `limits`: the dead-set limits of the peer that would have written this entry ({@link deadLimitsFor}). */
  | { kind: 'dead'; payload: string; retryCount: number; scoreSeconds: string; limits: DeadLimits }
  | { kind: 'drop'; reason: string; retryCount: number };

const MAX_ERROR_MESSAGE = 10_000;

/** The latest retry time: JavaScript's last Date (year 275760), a score every peer reads. */
const MAX_RUN_AT_MS = 8.64e15;
/** crypto.randomInt's largest range; Sidekiq 8's jitter range grows with retry_count. */
const MAX_JITTER = 2 ** 47;

/** `n` as a range crypto.randomInt takes: a whole number from 1 to MAX_JITTER (a hostile or
 * hand-edited retry_count may be negative, fractional or huge). */
function jitterRange(n: number): number {
  const whole = Math.floor(n);
  return whole >= 1 ? Math.min(whole, MAX_JITTER) : 1;
}

/**
 * Whether a retry can be scheduled at `runAtMs`. A retry_count so large that the backoff
 * overflows (or a class retryAt far beyond any date) makes the job exhausted: dead, not a
 * score Redis refuses (`inf`) that would leave the job in in-progress to re-run forever.
 */
function retryTimeOk(runAtMs: number): boolean {
  return runAtMs <= MAX_RUN_AT_MS; // false for NaN and Infinity too
}

/** Sidekiq's error_backtrace: zlib-deflated JSON array of lines, Base64 (MIME-wrapped up to 7.2.0). */
export function encodeBacktrace(lines: string[], style: 'mime' | 'strict'): string {
  const b64 = deflateSync(Buffer.from(JSON.stringify(lines))).toString('base64');
  if (style === 'strict') return b64;
  return b64.replace(/.{1,60}/g, '$&\n');
}

function int(n: number): JsonNumber {
  return new JsonNumber(String(n));
}

/** Number of backtrace lines the job asks for: `backtrace: true` → all, N → N, else none. */
function backtraceLimit(doc: JsonObject): number | undefined {
  const bt = doc.get('backtrace');
  if (bt === true) return Infinity;
  if (bt instanceof JsonNumber && bt.isInteger && Number(bt.raw) > 0) return Number(bt.raw);
  return undefined;
}

/**
 * Builds the outcome of a failure of `job` fetched from `fetchedQueue` at `nowMs`.
 * Sidekiq: retry_count 0 on the first failure, exhausted when count ≥ max; `retry: false` drops
 * the job; `dead: false` drops it instead of killing. Verk: retry_count 1 on the first failure,
 * exhausted when count > max_retry_count. Exq: like Verk, with its `retry` integer limit.
 * A failure whose cause is not the handler is never dropped ({@link FailureCause}).
 */
export function failureOutcome(job: DecodedJob, fetchedQueue: string, info: FailureInfo, nowMs: number, policy: FailurePolicy): FailureOutcome {
  // resque hook: a Resque-shaped job met by a worker standing in for Sidekiq fails as Sidekiq
  // fails it (Sidekiq runs that hash as is). A Resque worker writes dialects/resque.ts's entry.
  const peer: Peer = job.dialect === 'resque' ? 'sidekiq7' : job.dialect;
  const traits = PEER_TRAITS[peer];
  const doc = job.doc().clone();
  const message = info.errorMessage.slice(0, MAX_ERROR_MESSAGE);
  const prev = job.retryCount;
  const cause = info.cause ?? 'handler';
  // Only the handler's own failure may drop the job; an unknown class retries even with
  // retry: false (its `false` means "do not run my code twice", and the code never ran).
  const mayDrop = cause === 'handler';
  const straightToDead = cause === 'invalid_args';

  if (traits.family === 'sidekiq') {
    if (job.retry === false && mayDrop) return { kind: 'drop', reason: 'retry is false', retryCount: prev ?? 0 };
    const max = typeof job.retry === 'number' ? job.retry : policy.defaultMaxRetries;
    const retryQueue = doc.get('retry_queue');
    doc.set('queue', typeof retryQueue === 'string' ? retryQueue : fetchedQueue);
    doc.set('error_message', message);
    doc.set('error_class', info.errorClass);
    let count: number;
    if (prev === undefined) {
      doc.set('failed_at', timestampToken(nowMs, traits.timeUnit));
      count = 0;
    } else {
      doc.set('retried_at', timestampToken(nowMs, traits.timeUnit));
      count = prev + 1;
    }
    doc.set('retry_count', int(count));
    const limit = backtraceLimit(doc);
    if (limit !== undefined && info.backtrace) {
      doc.set('error_backtrace', encodeBacktrace(info.backtrace.slice(0, limit), traits.backtraceBase64 === 'mime' ? 'mime' : 'strict'));
    }
    const payload = stringifyJson(doc);
    const exhausted = (): FailureOutcome => {
      if (doc.get('dead') === false && mayDrop) return { kind: 'drop', reason: 'retries exhausted and dead is false', retryCount: count };
      return { kind: 'dead', payload, retryCount: count, scoreSeconds: floatSeconds(nowMs), limits: deadLimitsFor(peer) };
    };
    if (straightToDead || count >= max) return exhausted();
    // Sidekiq ≤ 7: count^4 + 15 + rand(10)·(count+1); Sidekiq 8: count^4 + 15 + rand(10·(count+1)).
    const jitter = peer === 'sidekiq8' ? randomInt(jitterRange(10 * (count + 1))) : randomInt(10) * (count + 1);
    const runAtMs = policy.retryAt ? policy.retryAt(nowMs, count) : nowMs + (count ** 4 + 15 + jitter) * 1000;
    if (!retryTimeOk(runAtMs)) return exhausted();
    return { kind: 'retry', payload, retryCount: count, scoreSeconds: floatSeconds(runAtMs), runAtMs };
  }

  const count = (prev ?? 0) + 1;
  if (peer === 'verk') {
    const max = typeof job.retry === 'number' ? job.retry : policy.defaultMaxRetries;
    const nowS = Math.floor(nowMs / 1000);
    doc.set('error_message', message);
    doc.set('error_backtrace', info.backtrace && info.backtrace.length > 0 ? info.backtrace.map((l) => `    ${l}\n`).join('') : '\n');
    if (count === 1 || doc.get('failed_at') === null || doc.get('failed_at') === undefined) doc.set('failed_at', int(nowS));
    if (count > 1) doc.set('retried_at', int(nowS));
    doc.set('retry_count', int(count));
    const payload = stringifyJson(doc);
    const dead: FailureOutcome = { kind: 'dead', payload, retryCount: count, scoreSeconds: String(nowS), limits: deadLimitsFor(peer) };
    if (straightToDead || count > max) return dead;
    // Verk: count^4 + 15 + uniform(1..30)·(count+1), added to the integer failure time (a float score).
    const runAtMs = policy.retryAt ? policy.retryAt(nowS * 1000, count) : (nowS + count ** 4 + 15 + randomInt(1, 31) * (count + 1)) * 1000;
    if (!retryTimeOk(runAtMs)) return dead;
    const score = policy.retryAt ? String(Math.floor(runAtMs / 1000)) : floatSeconds(runAtMs);
    return { kind: 'retry', payload, retryCount: count, scoreSeconds: score, runAtMs };
  }

  // Exq re-encodes failed jobs into its own 13 fields (alphabetical); unknown fields are dropped.
  const r = doc.get('retry');
  const max = r instanceof JsonNumber && r.isInteger && Number(r.raw) > 0 ? Number(r.raw)
    : r === true || (r === false && cause === 'unknown_class') ? policy.defaultMaxRetries : 0;
  const now = timestampToken(nowMs, 'float_s');
  let runAtMs = Number.NaN;
  if (!straightToDead && count <= max) {
    runAtMs = policy.retryAt ? policy.retryAt(nowMs, count) : nowMs + (count ** 4 + 15 + randomInt(31) * (count + 1)) * 1000;
  }
  const exhausted = !retryTimeOk(runAtMs);
  const get = (k: string): JsonValue => doc.get(k) ?? null;
  const failedAt = get('failed_at');
  const exq = JsonObject.from([
    ['args', get('args')],
    ['class', get('class')],
    ['enqueued_at', get('enqueued_at')],
    ['error_class', exhausted ? 'ExqGenericError' : null],
    ['error_message', message],
    ['failed_at', failedAt === null ? now : failedAt],
    ['finished_at', null],
    ['jid', get('jid')],
    ['processor', get('processor')],
    ['queue', get('queue')],
    ['retried_at', now],
    ['retry', get('retry')],
    ['retry_count', exhausted ? (doc.get('retry_count') ?? int(0)) : int(count)],
  ]);
  const payload = stringifyJson(exq);
  if (exhausted) return { kind: 'dead', payload, retryCount: count, scoreSeconds: floatSeconds(nowMs), limits: deadLimitsFor(peer) };
  return { kind: 'retry', payload, retryCount: count, scoreSeconds: floatSeconds(runAtMs), runAtMs };
}

/** Dead-set limits: entries kept, and the max age in seconds of an entry (by its score). */
export interface DeadLimits { maxJobs: number; timeoutSeconds: number }

/**
 * The peer's default dead-set limits (Verk: 100 entries, 7 days; Sidekiq and Exq: 10000, 180
 * days). A failed job's dead entry carries its own dialect's limits: each peer trims the dead
 * set with its own limits when it adds a job there, so the trim is the one the job's own peer
 * would have made. A payload that could not be decoded at all gets its dead entry from
 * undecodable.ts instead of failureOutcome (the engine trims with its configured peer's limits).
 */
export function deadLimitsFor(peer: Peer): DeadLimits {
  const t = PEER_TRAITS[peer];
  return { maxJobs: t.deadMaxJobs, timeoutSeconds: t.deadTimeoutSeconds };
}
