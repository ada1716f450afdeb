/**
 * The bytes a scheduled or retried job gets when it moves back to its queue.
 *
 * Sidekiq's poller re-pushes the job through its client: `enqueued_at` becomes now (set in place
 * for a retry entry, appended for a schedule member, which has none). Verk's mover sets
 * `enqueued_at` only when it is null or missing. Every other byte of the payload is kept: the
 * new bytes are computed here, in Node, and a Lua script swaps them in only if the old member is
 * still in the set, so no script ever decodes a payload.
 */
import type { DecodedJob } from './decode.js';
import { stringifyJson } from './json.js';
import { PEER_TRAITS } from './peers.js';
import { timestampToken } from './timestamps.js';

/** The payload to LPUSH onto the job's queue when it is promoted at `nowMs`. */
export function promotedPayload(job: DecodedJob, nowMs: number): string {
  const doc = job.doc().clone();
  const traits = PEER_TRAITS[job.dialect];
  if (traits.family === 'verk') {
    const cur = doc.get('enqueued_at');
    if (cur !== null && cur !== undefined) return job.text;
    doc.set('enqueued_at', timestampToken(nowMs, 'int_s'));
    return stringifyJson(doc);
  }
  if (traits.family === 'exq') return job.text; // Exq's scheduler LPUSHes the member unchanged
  doc.set('enqueued_at', timestampToken(nowMs, traits.timeUnit));
  return stringifyJson(doc);
}
