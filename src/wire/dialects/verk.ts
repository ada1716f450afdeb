/**
 * Verk 1.7: `args` as a JSON string, integer seconds, a 1-based retry_count, exactly 13 keys in
 * alphabetical order, no `queues` set, its own dead-set limits (100 entries, 7 days).
 *
 * As a consumer Verk decodes a job into its struct and re-encodes it on failure: only its 13
 * keys survive (a Sidekiq job's `retry`, `error_class`, `backtrace`... are dropped), an `args`
 * array becomes the JSON string Jason writes for it, and values it keeps (a Sidekiq
 * `created_at` or `enqueued_at` in float seconds) stay as they were.
 */
import { randomInt } from 'node:crypto';
import type { DecodedJob } from '../decode.js';
import { WireError } from '../errors.js';
import { JsonNumber, JsonObject, type JsonValue, asString, parseJson, stringifyJson } from '../json.js';
import type { JobSpec } from '../normalize.js';
import { floatSeconds, timestampToken } from '../timestamps.js';
import type { Dialect, FailureContext, JobDraft } from './dialect.js';
import { type DeadLimits, type FailureOutcome, MAX_ERROR_MESSAGE, int, retryTimeOk } from './failure-rules.js';
import { perQueuePush, scheduleAdd } from './push-plan.js';
import { randomSlice } from './random.js';

const VERK_DEAD: DeadLimits = { maxJobs: 100, timeoutSeconds: 604_800 };

/** An option beyond class/args/queue/retry/jid/at/in: neither Verk's nor Exq's job carries it. */
export function refuseExtras(d: JobDraft, whose: string): void {
  const extra = d.extras[0];
  if (extra !== undefined) {
    throw new WireError('invalid_option', `option '${extra}' is not part of ${whose} job format (it would be dropped by the peer)`, extra);
  }
}

/** Verk.enqueue / Verk.schedule: 13 keys, alphabetical, args a JSON string. */
function writeVerkJob(d: JobDraft): JsonObject {
  refuseExtras(d, "Verk's");
  const maxRetry = typeof d.retry === 'number' ? d.retry : d.retry === false ? 0 : d.runAtMs === undefined ? (d.verkMaxRetryCount ?? 25) : null;
  return JsonObject.from([
    ['args', stringifyJson(d.args)],
    ['class', d.className],
    ['created_at', null],
    ['enqueued_at', d.runAtMs === undefined ? timestampToken(d.now, 'int_s') : null],
    ['error_backtrace', null],
    ['error_message', null],
    ['failed_at', null],
    ['finished_at', null],
    ['jid', d.jid],
    ['max_retry_count', maxRetry === null ? null : new JsonNumber(String(maxRetry))],
    ['queue', d.queue],
    ['retried_at', null],
    ['retry_count', new JsonNumber('0')],
  ]);
}

/**
 * A value as Jason re-encodes what it decoded: object keys sorted (Erlang maps of up to 32
 * keys iterate in key order; larger maps in hash order, which cannot be reproduced, so they
 * are sorted too), a repeated key kept once with its last value. Numbers keep their tokens.
 */
function jasonOrder(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(jasonOrder);
  if (!(v instanceof JsonObject)) return v;
  const last = new Map<string, JsonValue>();
  for (const e of v.entries) last.set(e.key, e.value);
  const keys = [...last.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return JsonObject.from(keys.map((k) => [k, jasonOrder(last.get(k)!)]));
}

/** Verk's max_retry_count as it reads it: a non-negative integer, else null (the default). */
function maxRetryCount(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

/**
 * Verk's handle_failure: retry_count + 1 (1 on the first failure), failed_at on the first
 * failure (or when null), retried_at from the second, exhausted when count > max_retry_count.
 */
function verkFailure(self: Dialect, job: DecodedJob, ctx: FailureContext): FailureOutcome {
  const { info, nowMs, policy } = ctx;
  const cause = info.cause ?? 'handler';
  const count = (job.retryCount ?? 0) + 1;
  const max = maxRetryCount(job.fields.max_retry_count) ?? policy.defaultMaxRetries;
  const nowS = Math.floor(nowMs / 1000);
  const src = job.doc();
  const failedAt = src.get('failed_at');
  const fields: Array<[string, JsonValue]> = [
    ['error_message', info.errorMessage.slice(0, MAX_ERROR_MESSAGE)],
    // Verk formats the stack as indented lines; OTP 23+ gives it none, which formats as "\n".
    ['error_backtrace', info.backtrace && info.backtrace.length > 0 ? info.backtrace.map((l) => `    ${l}\n`).join('') : '\n'],
    ['failed_at', count === 1 || failedAt === null || failedAt === undefined ? int(nowS) : failedAt],
    ['retried_at', count > 1 ? int(nowS) : (src.get('retried_at') ?? null)],
    ['retry_count', int(count)],
  ];
  let doc: JsonObject;
  if (job.dialect === self.peer) {
    // Verk's own job: its 13 keys are there; set in place, so every other byte stays.
    doc = src.clone();
    for (const [k, v] of fields) if (k !== 'retried_at' || count > 1) doc.set(k, v);
  } else {
    // A foreign job, decoded into Verk's struct and re-encoded: its 13 keys, alphabetical.
    const set = new Map(fields);
    const args = src.get('args') ?? null;
    const keep = (k: string): JsonValue => set.get(k) ?? src.get(k) ?? null;
    doc = JsonObject.from([
      ['args', typeof args === 'string' ? args : stringifyJson(jasonOrder(args))],
      ['class', keep('class')],
      ['created_at', keep('created_at')],
      ['enqueued_at', keep('enqueued_at')],
      ['error_backtrace', keep('error_backtrace')],
      ['error_message', keep('error_message')],
      ['failed_at', keep('failed_at')],
      ['finished_at', null],
      ['jid', keep('jid')],
      ['max_retry_count', keep('max_retry_count')],
      ['queue', keep('queue')],
      ['retried_at', keep('retried_at')],
      ['retry_count', keep('retry_count')],
    ]);
  }
  const payload = stringifyJson(doc);
  const dead: FailureOutcome = { kind: 'dead', payload, retryCount: count, scoreSeconds: String(nowS), limits: self.deadLimits };
  if (cause === 'invalid_args' || count > max) return dead;
  // Verk: count^4 + 15 + uniform(1..30)·(count+1), added to the integer failure time (a float score).
  const runAtMs = policy.retryAt ? policy.retryAt(nowS * 1000, count) : (nowS + count ** 4 + 15 + randomInt(1, 31) * (count + 1)) * 1000;
  if (!retryTimeOk(runAtMs)) return dead;
  const score = policy.retryAt ? String(Math.floor(runAtMs / 1000)) : floatSeconds(runAtMs);
  return { kind: 'retry', payload, retryCount: count, scoreSeconds: score, runAtMs };
}

export const verk: Dialect = {
  peer: 'verk',
  traits: {
    family: 'verk', versions: '1.7', timeUnit: 'int_s', firstRetryCount: 1, addsToQueuesSet: false, beatSeconds: 30,
    workKeySuffix: ':work', backtraceBase64: 'text', deadMaxJobs: VERK_DEAD.maxJobs, deadTimeoutSeconds: VERK_DEAD.timeoutSeconds,
  },
  candidates: ['verk'],
  defaultNamespace: undefined,
  queueEnds: { push: 'head', pop: 'tail' },
  deadLimits: VERK_DEAD,
  schemas: { written: 'job.verk', readable: 'job.verk' },
  processRegistry: { kind: 'verk-nodes' },
  pastScheduleEnqueuesNow: true,
  pushesThroughScript: false,
  inProcessRetries: false,
  tracing: { system: 'verk', contextInJob: false },
  retryField: 'max_retry_count',
  // Verk's RetrySet/DeadSet: requeue_job_now LPUSHes the member unchanged; dead scores are
  // integer seconds (range_with_score parses them as integers); nodes take no signals.
  admin: {
    sets: ['scheduled', 'retries', 'dead'],
    retryNowPayload: (job) => job.text,
    enqueuedAtMs: (job) => job.timestamp('enqueued_at'),
    deadScore: (ms) => String(Math.floor(ms / 1000)),
    processes: { kind: 'verk-nodes', noSignals: 'Verk nodes take no signals through Redis (stop the BEAM node itself)' },
  },
  // `args` as a JSON string, or Verk's `max_retry_count`.
  detects: (job) => typeof job.args === 'string' || 'max_retry_count' in job,
  newJid() {
    // 8 random bytes as two unsigned 32-bit big-endian integers, printed in decimal, concatenated.
    const b = randomSlice(8);
    return `${b.readUInt32BE(0)}${b.readUInt32BE(4)}`;
  },
  writeJob: writeVerkJob,
  specFromJob(doc) {
    const args = asString(doc.get('args'));
    const spec: JobSpec = { class: asString(doc.get('class')) ?? '', args: args === undefined ? [] : (parseJson(args) as JsonValue[]), queue: asString(doc.get('queue')) ?? 'default' };
    const max = doc.get('max_retry_count');
    if (max instanceof JsonNumber) spec.retry = Number(max.raw);
    return spec;
  },
  // LPUSH only (Verk never touches `queues`); ZADD schedule at integer seconds.
  pushPlan: (jobs, keys) => [...perQueuePush(jobs, keys, 'head', false), ...scheduleAdd(jobs, keys, (ms) => String(Math.floor(ms / 1000)))],
  failure: (job, ctx) => verkFailure(verk, job, ctx),
  promotedPayload(job, nowMs) {
    // Verk's mover sets enqueued_at only when it is null or missing.
    const cur = job.doc().get('enqueued_at');
    if (cur !== null && cur !== undefined) return job.text;
    const doc = job.doc().clone();
    doc.set('enqueued_at', timestampToken(nowMs, 'int_s'));
    return stringifyJson(doc);
  },
};
