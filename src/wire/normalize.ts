/**
 * normalize: a caller's job spec → the job hash a peer's own client would have written.
 *
 * Follows Sidekiq's `normalize_item` (class required and stringified, args an array of
 * JSON-native values, queue defaulted, `retry` true/false/N, a CSPRNG jid, `created_at` kept
 * when given) and writes the hash in the target peer's key order and timestamp unit, so the
 * peer cannot tell kiqgate's job from one of its own. Every rejection is a WireError naming the
 * field and what was expected; nothing invalid gets as far as Redis.
 */
import { WireError } from './errors.js';
import { type Dialect, dialectFor } from './dialects/index.js';
import { type JsonObject, type JsonValue, describe, fromNative, stringifyJson } from './json.js';
import type { Peer } from './peers.js';
import { queueNameProblem } from './queue-name.js';
import { isEpochMilliseconds, nowMs } from './timestamps.js';

/** What a caller enqueues. Extra keys are Sidekiq options merged into the payload (Sidekiq peers only). */
export interface JobSpec {
  /** The job class name (or a class/function, whose `name` is used). */
  class: string | { name: string };
  /** Positional arguments: JSON-native values only (BigInt for integers beyond 2^53). */
  args: unknown[];
  /** Queue name; default `default`. */
  queue?: string;
  /** true (default, up to 25 retries), false (no retries, no dead set), or the maximum retry count. */
  retry?: boolean | number;
  /** A job id to use instead of a generated one. */
  jid?: string;
  /** Run at this time: a Date, or an epoch number (seconds, or milliseconds when above MS_THRESHOLD, 1e11). */
  at?: Date | number;
  /** Run this many seconds from now (≤ 0 runs now). */
  in?: number;
  /** Any other Sidekiq option (`backtrace`, `retry_queue`, `tags`, `dead`, ...), written into the payload. */
  [option: string]: unknown;
}

/** A normalized job, ready to push. */
export interface NormalizedJob {
  peer: Peer;
  queue: string;
  jid: string;
  /** The payload as written to Redis. */
  payload: string;
  /** The payload's document (for inspection; the bytes are `payload`). */
  doc: JsonObject;
  /** Epoch ms when scheduled (goes to the `schedule` zset), undefined for an immediate push. */
  runAtMs?: number;
}

export interface NormalizeOptions {
  /** "Now" in epoch ms (default: the local clock with sub-ms precision). */
  now?: number;
  /** `created_at` shared by a bulk push (Sidekiq normalizes a bulk once). */
  createdAt?: number;
  /** Verk's default `max_retry_count` for immediate pushes (config `max_retry_count`, 25). */
  verkMaxRetryCount?: number;
}

const RESERVED = new Set(['class', 'args', 'queue', 'retry', 'jid', 'at', 'in', 'created_at', 'enqueued_at']);

/** The last queue name found valid: most callers push to one queue, so the check runs once. */
let lastValidQueue = 'default';

function checkQueue(queue: unknown): string {
  if (queue === lastValidQueue) return queue;
  if (typeof queue !== 'string' || queue === '') fail('queue', `queue must be a non-empty string, got ${queue === '' ? 'an empty string' : describe(queue)}`);
  const problem = queueNameProblem(queue);
  if (problem) fail('queue', `queue must be a name a kiqgate worker can consume: ${problem}`);
  return (lastValidQueue = queue);
}

function fail(field: string, message: string): never {
  throw new WireError(field === 'args' || field.startsWith('args[') ? 'invalid_args' : field === 'class' ? 'invalid_job' : 'invalid_option', message, field);
}

function className(spec: JobSpec): string {
  const c = spec.class as unknown;
  if (typeof c === 'string') {
    if (c === '') fail('class', 'class must be a non-empty string naming the job class, got an empty string');
    return c;
  }
  if (typeof c === 'function' && typeof c.name === 'string' && c.name !== '') return c.name;
  return fail('class', `class is required: a string naming the job class, got ${describe(c)}`);
}

/** Resolves `at`/`in` to epoch ms, or undefined for an immediate push. */
function runAt(spec: JobSpec, now: number, dialect: Dialect): number | undefined {
  if (spec.at !== undefined && spec.in !== undefined) fail('at', "give either 'at' or 'in', not both");
  if (spec.in !== undefined) {
    if (typeof spec.in !== 'number' || !Number.isFinite(spec.in)) fail('in', `in must be a number of seconds, got ${describe(spec.in)}`);
    return spec.in > 0 ? now + spec.in * 1000 : undefined; // Sidekiq's perform_in: not in the future → now
  }
  if (spec.at === undefined) return undefined;
  let ms: number;
  if (spec.at instanceof Date) ms = spec.at.getTime();
  else if (typeof spec.at === 'number' && Number.isFinite(spec.at)) ms = isEpochMilliseconds(spec.at) ? spec.at : spec.at * 1000;
  else return fail('at', `at must be a Date or an epoch timestamp (number), got ${describe(spec.at)}`);
  if (Number.isNaN(ms)) fail('at', 'at must be a valid Date, got an invalid Date');
  // Verk.schedule enqueues at once when the time is at least 1 s in the past.
  if (dialect.pastScheduleEnqueuesNow && ms <= now - 1000) return undefined;
  return ms;
}

function retrySetting(spec: JobSpec): boolean | number {
  const r = spec.retry;
  if (r === undefined) return true;
  if (typeof r === 'boolean') return r;
  if (typeof r === 'number' && Number.isInteger(r) && r >= 0) return r;
  return fail('retry', `retry must be true, false or a non-negative integer, got ${typeof r === 'number' ? r : describe(r)}`);
}

/** Validates and normalizes one job for `peer`. */
export function normalizeJob(spec: JobSpec, peer: Peer, opts: NormalizeOptions = {}): NormalizedJob {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new WireError('invalid_job', `a job must be an object with 'class' and 'args', got ${describe(spec)}`);
  }
  const cls = className(spec);
  if (!Array.isArray(spec.args)) fail('args', `args must be an array, got ${describe(spec.args)}`);
  const args = fromNative(spec.args, 'args') as JsonValue[];
  const queue = checkQueue(spec.queue ?? 'default');
  if (spec.jid !== undefined && (typeof spec.jid !== 'string' || spec.jid === '')) fail('jid', `jid must be a non-empty string, got ${describe(spec.jid)}`);
  if (spec.tags !== undefined && !Array.isArray(spec.tags)) fail('tags', `tags must be an array, got ${describe(spec.tags)}`);
  const retry = retrySetting(spec);
  const now = opts.now ?? nowMs();
  const dialect = dialectFor(peer);
  const runAtMs = runAt(spec, now, dialect);
  const jid = spec.jid ?? dialect.newJid();
  const extras = Object.keys(spec).filter((k) => !RESERVED.has(k) && spec[k] !== undefined);
  const doc = dialect.writeJob({
    spec, className: cls, args, queue, jid, retry, now, runAtMs, createdAt: opts.createdAt, extras, verkMaxRetryCount: opts.verkMaxRetryCount,
  });
  const payload = stringifyJson(doc);
  // A runtime whose jobs carry no id (Resque): the id derived from the bytes, for logs only.
  const job: NormalizedJob = { peer, queue, jid: dialect.derivedJid ? dialect.derivedJid(payload) : jid, payload, doc };
  if (runAtMs !== undefined) job.runAtMs = runAtMs;
  return job;
}
