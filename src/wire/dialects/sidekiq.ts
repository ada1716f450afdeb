/**
 * Sidekiq 6.x, 7.x and 8.x: one module, three versions. What differs between them is data
 * (timestamp unit, backtrace Base64 style, retry jitter, push batching, process layout); the
 * rules are Sidekiq's `normalize_item`, `Client#push`, `JobRetry` and the scheduled poller.
 *
 * As a consumer Sidekiq treats any job hash generically (JobRetry reads `retry`, `retry_count`,
 * `retry_queue`, `backtrace` and `dead`, and sets its fields in place), so its failure entry
 * is the original document with fields set in place or appended, whoever produced it: every
 * value the producer wrote survives byte for byte, a Verk `args` string included.
 */
import { type ExecutionMetricsLayout, SIDEKIQ7_EXECUTION_METRICS, SIDEKIQ8_EXECUTION_METRICS } from '../execution-metrics.js';
import { randomInt } from 'node:crypto';
import type { DecodedJob, RetrySetting } from '../decode.js';
import { JsonNumber, JsonObject, asString, fromNative, stringifyJson } from '../json.js';
import type { JobSpec } from '../normalize.js';
import type { Peer, PeerTraits } from '../peers.js';
import { floatSeconds, isEpochMilliseconds, scoreSeconds, timestampToken } from '../timestamps.js';
import type { AdminRules } from './admin-rules.js';
import type { Dialect, FailureContext, JobDraft, PlannedJob, PushCommand, SidekiqProcessLayout } from './dialect.js';
import {
  type DeadLimits, type FailureOutcome, MAX_ERROR_MESSAGE, backtraceLimit, encodeBacktrace, int, jitterRange, retryTimeOk,
} from './failure-rules.js';
import { byQueue, listPush, perQueuePush, scheduleAdd } from './push-plan.js';
import { randomHex } from './random.js';
import { SIDEKIQ6_PROCESS, SIDEKIQ7_PROCESS, SIDEKIQ8_PROCESS } from './sidekiq-process.js';

const TIME_FIELDS = ['created_at', 'enqueued_at', 'failed_at', 'retried_at'] as const;
/** Fields Sidekiq's client generates on a first push (a re-push keeps them in place). */
const GENERATED = new Set(['jid', 'created_at', 'enqueued_at']);

/** Sidekiq's dead set: 10,000 entries, 180 days (every version). */
const SIDEKIQ_DEAD: DeadLimits = { maxJobs: 10_000, timeoutSeconds: 15_552_000 };

/**
 * Sidekiq's reading of a hash's `retry`: absent/null → the default (undefined here), a boolean
 * as is, a non-negative integer as the maximum, any other truthy value (the string "5") → true.
 */
export function sidekiqRetrySetting(r: unknown): RetrySetting | undefined {
  if (r === null || r === undefined) return undefined;
  if (typeof r === 'boolean') return r;
  if (typeof r === 'number' && Number.isInteger(r) && r >= 0) return r;
  return true;
}

/** The job hash Sidekiq's client writes (normalize_item + Client#push). */
function writeSidekiqJob(d: JobDraft, traits: PeerTraits): JsonObject {
  // Key order as Sidekiq's `defaults.merge(item)` writes it: the defaults (retry, queue) keep
  // their positions, the caller's keys follow in the caller's order (so `{ args, class }` is
  // written args-first, as perform_async does), then jid, created_at and enqueued_at are added
  // when absent (`||=`), in that order. A scheduled job gets no enqueued_at.
  const doc = JsonObject.from([
    ['retry', typeof d.retry === 'number' ? new JsonNumber(String(d.retry)) : d.retry],
    ['queue', d.queue],
  ]);
  const enqueuedAt = timestampToken(d.now, traits.timeUnit);
  for (const k of Object.keys(d.spec)) {
    const v = d.spec[k];
    if (v === undefined || k === 'retry' || k === 'queue' || k === 'at' || k === 'in') continue;
    if (k === 'class') doc.set('class', d.className);
    else if (k === 'args') doc.set('args', d.args);
    else if (k === 'jid') doc.set('jid', d.jid);
    else if (k === 'enqueued_at') {
      if (d.runAtMs === undefined) doc.set('enqueued_at', enqueuedAt);
    } else doc.set(k, fromNative(v, k));
  }
  if (!doc.has('jid')) doc.set('jid', d.jid);
  if (!doc.has('created_at')) doc.set('created_at', timestampToken(d.createdAt ?? d.now, traits.timeUnit));
  if (d.runAtMs === undefined) doc.set('enqueued_at', enqueuedAt);
  return doc;
}

/**
 * JobRetry#process_retry for any job hash: retry_count 0 on the first failure (none in the
 * hash), else +1; exhausted when count ≥ max; `retry: false` drops the job; `dead: false`
 * drops it instead of killing. A failure whose cause is not the handler is never dropped.
 */
function sidekiqFailure(self: Dialect, jitter: (count: number) => number, job: DecodedJob, ctx: FailureContext): FailureOutcome {
  const { info, nowMs, policy } = ctx;
  const { timeUnit, backtraceBase64 } = self.traits;
  const doc = job.doc().clone();
  const prev = job.retryCount;
  const cause = info.cause ?? 'handler';
  // Only the handler's own failure may drop the job; an unknown class retries even with
  // retry: false (its `false` means "do not run my code twice", and the code never ran).
  const mayDrop = cause === 'handler';
  // Sidekiq reads `retry` from the hash (a Verk hash has none: the default maximum applies).
  const retry = sidekiqRetrySetting(job.fields.retry);
  if (retry === false && mayDrop) return { kind: 'drop', reason: 'retry is false', retryCount: prev ?? 0 };
  const max = typeof retry === 'number' ? retry : policy.defaultMaxRetries;
  // JobRetry#local: a hash whose `retry` is nil (a Verk or Resque job has none) takes the worker
  // class's option, true by default, and keeps it: the entry gains `"retry":true`.
  const r = doc.get('retry');
  if (r === undefined || r === null) doc.set('retry', true);
  const retryQueue = doc.get('retry_queue');
  doc.set('queue', typeof retryQueue === 'string' ? retryQueue : ctx.fetchedQueue);
  doc.set('error_message', info.errorMessage.slice(0, MAX_ERROR_MESSAGE));
  doc.set('error_class', info.errorClass);
  let count: number;
  if (prev === undefined) {
    doc.set('failed_at', timestampToken(nowMs, timeUnit));
    count = 0;
  } else {
    doc.set('retried_at', timestampToken(nowMs, timeUnit));
    // Ruby's `if msg["retry_count"]`: a Verk job's 0 counts, so it gets retried_at and 1, and its
    // null failed_at stays null, as Sidekiq leaves it (its Web UI shows retried_at once
    // retry_count > 0, so nothing reads that null).
    count = prev + 1;
  }
  doc.set('retry_count', int(count));
  const limit = backtraceLimit(doc);
  if (limit !== undefined && info.backtrace) {
    doc.set('error_backtrace', encodeBacktrace(info.backtrace.slice(0, limit), backtraceBase64 === 'mime' ? 'mime' : 'strict'));
  }
  const payload = stringifyJson(doc);
  const exhausted = (): FailureOutcome => {
    if (doc.get('dead') === false && mayDrop) return { kind: 'drop', reason: 'retries exhausted and dead is false', retryCount: count };
    return { kind: 'dead', payload, retryCount: count, scoreSeconds: floatSeconds(nowMs), limits: self.deadLimits };
  };
  if (cause === 'invalid_args' || count >= max) return exhausted();
  const runAtMs = policy.retryAt ? policy.retryAt(nowMs, count) : nowMs + (count ** 4 + 15 + jitter(count)) * 1000;
  if (!retryTimeOk(runAtMs)) return exhausted();
  return { kind: 'retry', payload, retryCount: count, scoreSeconds: floatSeconds(runAtMs), runAtMs };
}

/**
 * Sidekiq::API's view: `schedule`/`retry`/`dead`, `processes` with `<identity>-signals`
 * (TSTP quiets, TERM stops). SortedEntry#retry pushes the job again through the client with
 * `retry_count` − 1 ("manual retries should not count") and a new `enqueued_at`, each set in
 * place, every other byte kept. Queue#latency reads `enqueued_at` (8.x: `|| created_at`).
 */
function sidekiqAdmin(traits: PeerTraits, latencyFromCreatedAt: boolean): AdminRules {
  return {
    sets: ['scheduled', 'retries', 'dead'],
    retryNowPayload(job, nowMs) {
      const doc = job.doc().clone();
      const count = doc.get('retry_count');
      if (count instanceof JsonNumber && count.isInteger) doc.set('retry_count', int(Number(count.raw) - 1));
      doc.set('enqueued_at', timestampToken(nowMs, traits.timeUnit));
      return stringifyJson(doc);
    },
    enqueuedAtMs: (job) => job.timestamp('enqueued_at') ?? (latencyFromCreatedAt ? job.timestamp('created_at') : undefined),
    deadScore: floatSeconds,
    processes: {
      kind: 'heartbeat-hash',
      set: (keys) => keys.processes,
      hash: (keys, id) => keys.process(id),
      signals: { list: (keys, id) => keys.processSignals(id), quiet: 'TSTP', stop: 'TERM' },
    },
  };
}

interface Version {
  peer: Peer;
  traits: PeerTraits;
  process: SidekiqProcessLayout;
  detects: Dialect['detects'];
  /** Backoff jitter in seconds for the new retry_count. */
  jitter: (count: number) => number;
  /** Sidekiq 8 sends one `SADD queues q1 q2…` for a batch, then one push per queue. */
  oneSaddPerBatch: boolean;
  candidates: readonly Peer[];
  schemas: Dialect['schemas'];
  /** The Web UI Metrics page's layout (7 and 8; 6 has no such page). */
  executionMetrics?: ExecutionMetricsLayout;
  /** Queue#latency falls back to `created_at` when `enqueued_at` is missing (8.x). */
  latencyFromCreatedAt: boolean;
}

function sidekiq(v: Version): Dialect {
  const self: Dialect = {
    peer: v.peer,
    traits: v.traits,
    candidates: v.candidates,
    defaultNamespace: undefined,
    queueEnds: { push: 'head', pop: 'tail' },
    deadLimits: SIDEKIQ_DEAD,
    schemas: v.schemas,
    processRegistry: { kind: 'sidekiq', layout: v.process },
    pastScheduleEnqueuesNow: false,
    pushesThroughScript: false,
    inProcessRetries: false,
    tracing: { system: 'sidekiq', contextInJob: true },
    ...(v.executionMetrics ? { executionMetrics: v.executionMetrics } : {}),
    retryField: 'retry',
    admin: sidekiqAdmin(v.traits, v.latencyFromCreatedAt),
    detects: v.detects,
    newJid: () => randomHex(24), // SecureRandom.hex(12): 24 lowercase hex
    writeJob: (draft) => writeSidekiqJob(draft, v.traits),
    specFromJob(doc, repush) {
      const spec = {} as JobSpec;
      for (const { key, value } of doc.entries) {
        if (!repush && GENERATED.has(key)) continue;
        if (key === 'retry') spec.retry = typeof value === 'boolean' ? value : Number((value as JsonNumber).raw);
        else if (key === 'class') spec.class = asString(value) ?? '';
        else (spec as Record<string, unknown>)[key] = value;
      }
      return spec;
    },
    pushPlan(jobs: readonly PlannedJob[], keys): PushCommand[] {
      const end = self.queueEnds.push;
      let now: PushCommand[];
      if (v.oneSaddPerBatch) {
        const queues = byQueue(jobs);
        now = queues.size === 0 ? [] : [{ name: 'sadd', key: keys.queues, args: [...queues.keys()] }];
        for (const [q, payloads] of queues) now.push(listPush(keys, q, payloads, end));
      } else {
        now = perQueuePush(jobs, keys, end, true);
      }
      return [...now, ...scheduleAdd(jobs, keys, scoreSeconds)];
    },
    failure: (job, ctx) => sidekiqFailure(self, v.jitter, job, ctx),
    promotedPayload(job, nowMs) {
      // The poller re-pushes through the client: enqueued_at becomes now (set in place for a
      // retry entry, appended for a schedule member, which has none).
      const doc = job.doc().clone();
      doc.set('enqueued_at', timestampToken(nowMs, v.traits.timeUnit));
      return stringifyJson(doc);
    },
  };
  return self;
}

const COMMON = { family: 'sidekiq', firstRetryCount: 0, addsToQueuesSet: true, deadMaxJobs: SIDEKIQ_DEAD.maxJobs, deadTimeoutSeconds: SIDEKIQ_DEAD.timeoutSeconds } as const;

/** A job timestamp written as integer milliseconds: Sidekiq 8. */
function hasMillisecondTimestamp(job: Readonly<Record<string, unknown>>): boolean {
  for (const f of TIME_FIELDS) {
    const t = job[f];
    if (typeof t === 'number' && Number.isInteger(t) && isEpochMilliseconds(t)) return true;
  }
  return false;
}

/** Sidekiq 6.x: float seconds, MIME-wrapped backtraces (up to 7.2.0), 5 s beat, `:workers`. */
export const sidekiq6 = sidekiq({
  peer: 'sidekiq6',
  traits: { ...COMMON, versions: '6.x', timeUnit: 'float_s', beatSeconds: 5, workKeySuffix: ':workers', backtraceBase64: 'mime' },
  process: SIDEKIQ6_PROCESS,
  // A MIME-wrapped backtrace (newlines) was written by Sidekiq ≤ 7.2.0 (asked after Sidekiq 8).
  detects: (job) => typeof job.error_backtrace === 'string' && job.error_backtrace.includes('\n'),
  jitter: (count) => randomInt(10) * (count + 1),
  oneSaddPerBatch: false,
  candidates: ['sidekiq6', 'sidekiq7'], // 6 and 7 write the same job hash
  schemas: { written: 'job.sidekiq', readable: 'job.sidekiq' },
  latencyFromCreatedAt: false,
});

/** Sidekiq 7.x: float seconds, strict Base64, 10 s beat, `:work`. The fallback of detection. */
export const sidekiq7 = sidekiq({
  peer: 'sidekiq7',
  traits: { ...COMMON, versions: '7.x', timeUnit: 'float_s', beatSeconds: 10, workKeySuffix: ':work', backtraceBase64: 'strict' },
  process: SIDEKIQ7_PROCESS,
  detects: () => true,
  jitter: (count) => randomInt(10) * (count + 1),
  oneSaddPerBatch: false,
  candidates: ['sidekiq6', 'sidekiq7'],
  schemas: { written: 'job.sidekiq', readable: 'job.sidekiq' },
  executionMetrics: SIDEKIQ7_EXECUTION_METRICS,
  latencyFromCreatedAt: false,
});

/** Sidekiq 8.x: integer-ms job timestamps (scores stay float seconds), jitter rand(10·(count+1)). */
export const sidekiq8 = sidekiq({
  peer: 'sidekiq8',
  traits: { ...COMMON, versions: '8.x', timeUnit: 'int_ms', beatSeconds: 10, workKeySuffix: ':work', backtraceBase64: 'strict' },
  process: SIDEKIQ8_PROCESS,
  detects: hasMillisecondTimestamp,
  jitter: (count) => randomInt(jitterRange(10 * (count + 1))),
  oneSaddPerBatch: true,
  candidates: ['sidekiq8'],
  // Its consumer reads what 7's does (a Float created_at from an older client is fine).
  schemas: { written: 'job.sidekiq8', readable: 'job.sidekiq' },
  executionMetrics: SIDEKIQ8_EXECUTION_METRICS,
  latencyFromCreatedAt: true,
});
