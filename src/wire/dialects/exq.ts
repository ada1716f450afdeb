/**
 * Exq 0.23: namespace `exq`, a UUID jid, `retry` an integer limit, float seconds, and on
 * failure its own 13 keys, alphabetical (Jason), whatever the job carried before.
 *
 * As a consumer Exq decodes any job into its struct, so a foreign job's failure entry has the
 * same 13 keys: its `created_at` (and every other key Exq does not know) is dropped, values it
 * keeps stay as they were (a Verk `args` string, a Sidekiq 8 `enqueued_at` in ms), and its
 * `retry` decides: a positive integer is the limit, `true` is max_retries, anything else (0,
 * false, null, missing) makes the first failure final (a Sidekiq `retry: false` job goes to dead).
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { DecodedJob } from '../decode.js';
import { JsonNumber, JsonObject, type JsonValue, asString, stringifyJson } from '../json.js';
import type { JobSpec } from '../normalize.js';
import { floatSeconds, scoreSeconds, timestampToken } from '../timestamps.js';
import type { Dialect, FailureContext, JobDraft } from './dialect.js';
import { type FailureOutcome, MAX_ERROR_MESSAGE, int, retryTimeOk } from './failure-rules.js';
import { perQueuePush, scheduleAdd } from './push-plan.js';
import { refuseExtras } from './verk.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EXQ_FRESH_KEYS = ['args', 'class', 'enqueued_at', 'jid', 'queue', 'retry'];

/** Exactly the keys Exq writes for a new job (Jason, alphabetical), with its integer retry limit. */
function isFreshExqJob(job: Readonly<Record<string, unknown>>): boolean {
  const keys = Object.keys(job);
  return keys.length === EXQ_FRESH_KEYS.length && EXQ_FRESH_KEYS.every((k, i) => keys[i] === k) && Number.isInteger(job.retry);
}

/** Exq's enqueue / enqueue_at: alphabetical, retry an integer limit, enqueued_at = the run time when scheduled. */
function writeExqJob(d: JobDraft): JsonObject {
  refuseExtras(d, "Exq's");
  const maxRetry = typeof d.retry === 'number' ? d.retry : d.retry ? 25 : 0;
  return JsonObject.from([
    ['args', d.args],
    ['class', d.className],
    ['enqueued_at', timestampToken(d.runAtMs ?? d.now, 'float_s')],
    ['jid', d.jid],
    ['queue', d.queue],
    ['retry', new JsonNumber(String(maxRetry))],
  ]);
}

/** Exq's failure: retry_count + 1, final when the count passes its `retry` limit; re-encoded into 13 keys. */
function exqFailure(self: Dialect, job: DecodedJob, ctx: FailureContext): FailureOutcome {
  const { info, nowMs, policy } = ctx;
  const cause = info.cause ?? 'handler';
  const doc = job.doc();
  const count = (job.retryCount ?? 0) + 1;
  const r = doc.get('retry');
  // An unknown class is a deployment mistake, never the job's final failure: a job whose retry
  // makes the first failure final (false, or none at all) retries with the default maximum.
  const max = r instanceof JsonNumber && r.isInteger && Number(r.raw) > 0 ? Number(r.raw)
    : r === true || ((r === false || r === undefined || r === null) && cause === 'unknown_class') ? policy.defaultMaxRetries : 0;
  const now = timestampToken(nowMs, 'float_s');
  let runAtMs = Number.NaN;
  if (cause !== 'invalid_args' && count <= max) {
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
    ['error_message', info.errorMessage.slice(0, MAX_ERROR_MESSAGE)],
    ['failed_at', failedAt === null ? now : failedAt],
    ['finished_at', null],
    ['jid', get('jid')],
    ['processor', get('processor')],
    ['queue', get('queue')],
    ['retried_at', now],
    ['retry', get('retry')],
    // A dead entry keeps the count it had (Exq does not increment it there).
    ['retry_count', exhausted ? (doc.get('retry_count') ?? int(0)) : int(count)],
  ]);
  const payload = stringifyJson(exq);
  if (exhausted) return { kind: 'dead', payload, retryCount: count, scoreSeconds: floatSeconds(nowMs), limits: self.deadLimits };
  return { kind: 'retry', payload, retryCount: count, scoreSeconds: floatSeconds(runAtMs), runAtMs };
}

export const exq: Dialect = {
  peer: 'exq',
  traits: {
    family: 'exq', versions: '0.23', timeUnit: 'float_s', firstRetryCount: 1, addsToQueuesSet: true, beatSeconds: 5,
    workKeySuffix: ':workers', backtraceBase64: 'text', deadMaxJobs: 10_000, deadTimeoutSeconds: 15_552_000,
  },
  candidates: ['exq'],
  defaultNamespace: 'exq',
  queueEnds: { push: 'head', pop: 'tail' },
  deadLimits: { maxJobs: 10_000, timeoutSeconds: 15_552_000 },
  schemas: { written: 'job.exq', readable: 'job.exq' },
  processRegistry: { kind: 'none', why: "Exq's node ping (`<ns>:processes`, `<ns>:<node>`) is not written by kiqgate" },
  pastScheduleEnqueuesNow: false,
  pushesThroughScript: true,
  inProcessRetries: false,
  tracing: { system: 'exq', contextInJob: false },
  retryField: 'retry',
  // Exq.Api: retry_job re-enqueues the member as it is; its node ping is Sidekiq-shaped
  // (`<ns>:processes`, `<ns>:<node>` with info/busy/beat/quiet) and pops `<ns>:<node>-signals`,
  // where TSTP quiets a node (Exq has no stop signal).
  admin: {
    sets: ['scheduled', 'retries', 'dead'],
    retryNowPayload: (job) => job.text,
    enqueuedAtMs: (job) => job.timestamp('enqueued_at'),
    deadScore: floatSeconds,
    processes: {
      kind: 'heartbeat-hash',
      set: (keys) => keys.exqProcesses,
      hash: (keys, id) => keys.exqNode(id),
      signals: { list: (keys, id) => `${keys.exqNode(id)}-signals`, quiet: 'TSTP', stop: undefined },
    },
  },
  // Exq's `processor` (set when it re-encodes a failed job); or, on a hash without `created_at`
  // (Sidekiq's client always sets it, Exq never writes it), a UUID jid or exactly Exq's six
  // fresh-job keys with an integer `retry` (a caller may give either peer any jid).
  detects: (job) => 'processor' in job || (!('created_at' in job) && ((typeof job.jid === 'string' && UUID_RE.test(job.jid)) || isFreshExqJob(job))),
  newJid: () => randomUUID(),
  writeJob: writeExqJob,
  specFromJob(doc) {
    const spec: JobSpec = { class: asString(doc.get('class')) ?? '', args: doc.get('args') as JsonValue[], queue: asString(doc.get('queue')) ?? 'default' };
    const r = doc.get('retry');
    if (typeof r === 'boolean') spec.retry = r;
    else if (r instanceof JsonNumber) spec.retry = Number(r.raw);
    return spec;
  },
  // The enqueue script's SADD queues + LPUSH per queue; ZADD schedule at float seconds.
  pushPlan: (jobs, keys) => [...perQueuePush(jobs, keys, 'head', true), ...scheduleAdd(jobs, keys, scoreSeconds)],
  failure: (job, ctx) => exqFailure(exq, job, ctx),
  promotedPayload: (job) => job.text, // Exq's scheduler LPUSHes the member unchanged
};
