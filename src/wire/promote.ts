/**
 * The bytes a scheduled or retried job gets when it moves back to its queue, as the scheduler
 * of the job's own dialect would write them (Sidekiq's poller sets `enqueued_at` to now; Verk's
 * mover only when it is null; Exq's pushes the member unchanged; see each dialect module).
 * The new bytes are computed here, in Node, and a Lua script swaps them in only if the old
 * member is still in the set, so no script ever decodes a payload.
 */
import type { DecodedJob } from './decode.js';
import { dialectFor } from './dialects/index.js';

/** The payload to push onto the job's queue when it is promoted at `nowMs`. */
export function promotedPayload(job: DecodedJob, nowMs: number): string {
  return dialectFor(job.dialect).promotedPayload(job, nowMs);
}
