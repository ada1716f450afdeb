/**
 * Which peer wrote a job hash. Decided from the payload alone:
 * - Verk: `args` is a JSON string, or the hash has Verk's `max_retry_count`;
 * - Exq: Exq's `processor` field (added when Exq re-encodes a failed job); or, on a hash without
 *   `created_at` (Sidekiq's client always sets it, Exq never writes it), a UUID jid or exactly
 *   Exq's six fresh-job keys with an integer `retry` (a caller may give either peer any jid);
 * - Sidekiq 8: a job timestamp written as integer milliseconds;
 * - Resque: exactly `class` and `args`, nothing else (dialects/resque.ts);
 * - otherwise Sidekiq 6/7 (float seconds; the two write the same job hash, so both are candidates).
 */
import { isResqueShape } from './dialects/resque.js';
import type { Peer } from './peers.js';
import { isEpochMilliseconds } from './timestamps.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TIME_FIELDS = ['created_at', 'enqueued_at', 'failed_at', 'retried_at'] as const;

export interface Detection {
  /** The most likely writer. */
  dialect: Peer;
  /** Every peer that could have written exactly this hash. */
  candidates: Peer[];
}

const EXQ_FRESH_KEYS = ['args', 'class', 'enqueued_at', 'jid', 'queue', 'retry'];

/** Exactly the keys Exq writes for a new job (Jason, alphabetical), with its integer retry limit. */
function isFreshExqJob(job: Record<string, unknown>): boolean {
  const keys = Object.keys(job);
  return keys.length === EXQ_FRESH_KEYS.length && EXQ_FRESH_KEYS.every((k, i) => keys[i] === k) && Number.isInteger(job.retry);
}

/** Detects the dialect of a parsed job hash (a plain object from JSON.parse). */
export function detectDialect(job: Record<string, unknown>): Detection {
  // resque (issue 16): exactly `{"class","args"}` with no jid; no other peer writes that.
  if (isResqueShape(job)) return { dialect: 'resque', candidates: ['resque'] };
  if (typeof job.args === 'string' || 'max_retry_count' in job) return { dialect: 'verk', candidates: ['verk'] };
  if ('processor' in job || (!('created_at' in job) && ((typeof job.jid === 'string' && UUID_RE.test(job.jid)) || isFreshExqJob(job)))) {
    return { dialect: 'exq', candidates: ['exq'] };
  }
  for (const f of TIME_FIELDS) {
    const v = job[f];
    if (typeof v === 'number' && Number.isInteger(v) && isEpochMilliseconds(v)) {
      return { dialect: 'sidekiq8', candidates: ['sidekiq8'] };
    }
  }
  // A MIME-wrapped backtrace (newlines) was written by Sidekiq ≤ 7.2.0.
  const bt = job.error_backtrace;
  if (typeof bt === 'string' && bt.includes('\n')) return { dialect: 'sidekiq6', candidates: ['sidekiq6', 'sidekiq7'] };
  return { dialect: 'sidekiq7', candidates: ['sidekiq6', 'sidekiq7'] };
}
