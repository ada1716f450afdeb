/**
 * What a failed job becomes: the retry or dead entry (or a drop) that the runtime kiqgate
 * stands in for would write, for a job whoever produced it. The consumer's dialect
 * (`policy.consumer`, the worker's `peer`) decides the entry's shape and destination; the
 * job's own dialect decided how its bytes were read (decode.ts).
 *
 * Pure functions, no I/O: the engine decides *when* and writes the result atomically. Each
 * dialect's rules are in its module under dialects/.
 */
import type { DecodedJob } from './decode.js';
import { dialectFor } from './dialects/index.js';
import type { DeadLimits, FailureInfo, FailureOutcome, FailurePolicy } from './dialects/failure-rules.js';
import type { Peer } from './peers.js';

export type { DeadLimits, FailureCause, FailureInfo, FailureOutcome, FailurePolicy } from './dialects/failure-rules.js';
export { encodeBacktrace } from './dialects/failure-rules.js';

/**
 * Builds the outcome of a failure of `job` fetched from `fetchedQueue` at `nowMs`, by the rules
 * of `policy.consumer` (default: the job's own dialect). Sidekiq: retry_count 0 on the first
 * failure, exhausted when count ≥ max; `retry: false` drops the job; `dead: false` drops it
 * instead of killing. Verk: retry_count 1 on the first failure, exhausted when count >
 * max_retry_count. Exq: like Verk, with its `retry` integer limit. A failure whose cause is not
 * the handler is never dropped ({@link FailureCause}).
 */
export function failureOutcome(job: DecodedJob, fetchedQueue: string, info: FailureInfo, nowMs: number, policy: FailurePolicy): FailureOutcome {
  return dialectFor(policy.consumer ?? job.dialect).failure(job, { fetchedQueue, info, nowMs, policy });
}

/**
 * The peer's default dead-set limits (Verk: 100 entries, 7 days; Sidekiq and Exq: 10000, 180
 * days). A dead entry carries the limits of the runtime that wrote it (the consumer): each
 * runtime trims the dead set with its own limits when it adds a job there. A payload that
 * could not be decoded gets its dead entry from undecodable.ts (trimmed with the configured
 * peer's limits).
 */
export function deadLimitsFor(peer: Peer): DeadLimits {
  return dialectFor(peer).deadLimits;
}
