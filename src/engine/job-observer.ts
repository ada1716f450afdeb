/**
 * The per-job hook of the engine's own bookkeeping (Prometheus counts, Sidekiq's execution
 * metrics): told each job's end with plain arguments. The typed events (events.ts) carry the
 * same facts for applications, but build a payload object per job: with Sidekiq's execution
 * metrics listening to job:finished, the default worker's c50 drain ran about 30 % slower (its
 * profile: runDecoded's own time tripled); through this call, no difference was measurable.
 * Absent when nothing observes: the job path then only tests `undefined`.
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
