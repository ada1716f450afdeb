/**
 * Which peer wrote a job hash, decided from the payload alone: each dialect says whether a hash
 * is its own (`Dialect.detects`), asked in DETECTION_ORDER (dialects/index.ts):
 * - Verk: `args` is a JSON string, or the hash has Verk's `max_retry_count`;
 * - Exq: Exq's `processor` field (added when Exq re-encodes a failed job); or, on a hash without
 *   `created_at`, a UUID jid or exactly Exq's six fresh-job keys with an integer `retry`;
 * - Sidekiq 8: a job timestamp written as integer milliseconds;
 * - Resque: exactly `class` and `args`, nothing else (dialects/resque.ts);
 * - otherwise Sidekiq 6/7 (float seconds; the two write the same job hash, so both are candidates).
 */
import { detectedDialect } from './dialects/index.js';
import type { Peer } from './peers.js';

export interface Detection {
  /** The most likely writer. */
  dialect: Peer;
  /** Every peer that could have written exactly this hash. */
  candidates: Peer[];
}

/** Detects the dialect of a parsed job hash (a plain object from JSON.parse). */
export function detectDialect(job: Record<string, unknown>): Detection {
  const d = detectedDialect(job);
  return { dialect: d.peer, candidates: [...d.candidates] };
}
