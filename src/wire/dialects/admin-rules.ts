/**
 * What an operator's tools (Sidekiq::API, Verk's RetrySet/DeadSet, Exq.Api, Resque::Failure)
 * see of one runtime's keys, as data and pure functions each dialect supplies (`Dialect.admin`).
 * src/admin does the I/O; it asks these rules where a runtime keeps what, and which bytes its
 * API writes, and never which runtime it is talking to.
 *
 * Two roles, as for failures: the **layout** dialect (the `--peer` an operator names) decides
 * which sets, lists and registries exist and under which keys; the dialect that **wrote an
 * entry** (detected from its bytes) decides the bytes a manual retry pushes and how its
 * `enqueued_at` is read.
 */
import type { DecodedJob } from '../decode.js';
import type { KeyLayout } from '../keys.js';

/** The sorted sets of jobs an admin API lists: `schedule`, `retry`, `dead`. */
export type AdminSetName = 'scheduled' | 'retries' | 'dead';

/** One entry of a failure list (Resque's `failed`), as an operator reads it. */
export interface FailedEntryView {
  /** The job's jid when its payload has one, else the id derived from the payload's bytes. */
  readonly id: string;
  readonly className: string | undefined;
  /** The queue the job failed in. */
  readonly queue: string | undefined;
  /** The payload's `args` as written (JSON text). */
  readonly argsJson: string;
  /** `failed_at` as the runtime wrote it (Resque: `2026/12/07 22:20:41 UTC`). */
  readonly failedAt: string | undefined;
  readonly exception: string | undefined;
  readonly error: string | undefined;
  readonly worker: string | undefined;
  /** `retried_at` once the entry was requeued (it stays in the list). */
  readonly retriedAt: string | undefined;
}

/** A failure list kept instead of retry/dead sets (Resque::Failure::Redis). */
export interface FailedListRules {
  /** The list's key under a layout. */
  key(keys: KeyLayout): string;
  /** One entry as an operator reads it; throws a WireError when the entry is not a JSON object. */
  view(entry: string): FailedEntryView;
  /**
   * What requeueing an entry writes (Failure.requeue): the entry as it stays in the list (with
   * `retried_at`), the job pushed, and its queue.
   */
  requeue(entry: string, nowMs: number): { entry: string; payload: string; queue: string };
}

/** How a runtime's processes are told to quiet or stop through Redis. */
export interface ProcessSignals {
  /** The LIST the API LPUSHes a signal onto (EXPIRE 60 s). */
  list(keys: KeyLayout, id: string): string;
  /** The signal that quiets a process (Sidekiq, Exq: `TSTP`). */
  readonly quiet: string;
  /** The signal that stops it (Sidekiq: `TERM`); undefined when there is none through Redis. */
  readonly stop: string | undefined;
}

/** Where a runtime registers its running processes, and how an admin reads them. */
export type AdminProcessLayout =
  /**
   * A SET of ids, a HASH per id with Sidekiq's fields (`info` JSON, `busy`, `beat`, `quiet`,
   * `rss`), and a signals list: Sidekiq's `processes`, Exq's `<ns>:processes` node ping.
   */
  | { readonly kind: 'heartbeat-hash'; set(keys: KeyLayout): string; hash(keys: KeyLayout, id: string): string; readonly signals: ProcessSignals }
  /** Verk's `verk_nodes`, `verk:node:<id>` (alive, with a TTL) and `verk:node:<id>:queues`; no signals. */
  | { readonly kind: 'verk-nodes'; readonly noSignals: string }
  /**
   * Resque's `workers` SET, `worker:<id>` (the running job, JSON), `worker:<id>:started` and the
   * `workers:heartbeat` HASH; workers take signals from the OS only.
   */
  | {
    readonly kind: 'resque-workers'; set(keys: KeyLayout): string; working(keys: KeyLayout, id: string): string;
    started(keys: KeyLayout, id: string): string; heartbeat(keys: KeyLayout): string; readonly noSignals: string;
  };

/** A dialect's admin rules (see the file comment for which dialect's rules apply where). */
export interface AdminRules {
  /** The sorted sets its runtime keeps (none for Resque). */
  readonly sets: readonly AdminSetName[];
  /** Its failure list, when it keeps failures in a list instead of retry/dead sets. */
  readonly failedList?: FailedListRules;
  /**
   * The bytes its API pushes when an operator retries a `retry` or `dead` entry it wrote, now
   * (Sidekiq: `retry_count` − 1 and a new `enqueued_at`; Verk's requeue_job_now: unchanged).
   */
  retryNowPayload(job: DecodedJob, nowMs: number): string;
  /** When a queued job it wrote was enqueued, epoch ms, as its API reads it for latency; undefined: unknown. */
  enqueuedAtMs(job: DecodedJob): number | undefined;
  /** The `dead` score of a job killed at `nowMs` (Sidekiq: float seconds; Verk: integer seconds). */
  deadScore(nowMs: number): string;
  readonly processes: AdminProcessLayout;
}
