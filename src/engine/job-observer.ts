/**
 * The per-job hook of the engine's own bookkeeping (Prometheus counts, Sidekiq's execution
 * metrics): told each job's end with plain arguments. The typed events (events.ts) carry the
 * same facts for applications, but build a payload object per job; measured on the c50 drain,
 * listening to job:finished cost ~1.5 µs and ~30 MB of RSS (the payloads), this call nothing
 * worth measuring. Absent when nothing observes: the job path then only tests `undefined`.
 */
import type { FailureOutcome } from '../wire/index.js';

export interface JobObserver {
  /**
   * A job ran to an outcome: `failure` is what became of a failed one (retry, dead, drop,
   * failed), undefined for a success. Must not throw (the engine does not guard the call).
   */
  jobEnded(queue: string, className: string, durationMs: number, failure: FailureOutcome['kind'] | undefined): void;
}

/** One observer for several (undefined for none), so the job path makes one call at most. */
export function combineObservers(observers: readonly JobObserver[]): JobObserver | undefined {
  if (observers.length === 0) return undefined;
  if (observers.length === 1) return observers[0];
  return { jobEnded: (q, c, ms, f) => { for (const o of observers) o.jobEnded(q, c, ms, f); } };
}
