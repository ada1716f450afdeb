/**
 * Enqueueing for Rails workers: `client.enqueue({ activeJob: 'SendInvoiceJob', args })` pushes
 * what `perform_later` pushes for the target Rails/Sidekiq pair (wire/activejob/wrapper.ts), with
 * the same commands that Sidekiq's client sends for it.
 */
import { WireError } from '../wire/index.js';
import { type ActiveJobSpec, activeJobPush } from '../wire/activejob/index.js';
import type { NormalizedJob } from '../wire/index.js';

export type { ActiveJobSpec };

/** True when an enqueue spec is for an ActiveJob class. */
export function isActiveJobSpec(spec: object): spec is ActiveJobSpec {
  return Object.hasOwn(spec, 'activeJob');
}

const KNOWN = new Set(['activeJob', 'args', 'queue', 'at', 'in', 'priority', 'locale', 'timezone', 'target']);

/** The job to push for `spec` (validated, within `maxBytes`); a WireError naming the field otherwise. */
export function activeJobToPush(spec: ActiveJobSpec, nowMs: number, maxBytes: number): NormalizedJob & { jobId: string } {
  for (const k of Object.keys(spec)) {
    if (!KNOWN.has(k)) throw new WireError('invalid_option', `${k} is not an ActiveJob enqueue option (known: ${[...KNOWN].join(', ')})`, k);
  }
  const job = activeJobPush(spec, nowMs);
  const size = Buffer.byteLength(job.payload);
  if (maxBytes > 0 && size > maxBytes) throw new WireError('too_large', `payload is ${size} bytes, over the ${maxBytes}-byte limit`);
  return job;
}
