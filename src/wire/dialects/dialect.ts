/**
 * The shape every dialect module implements: one runtime (and version line) kiqgate speaks,
 * with everything that differs on the wire in one place. Code outside `src/wire` never asks
 * which dialect it holds; it reads a property or calls a method of this interface.
 *
 * Two roles, never mixed up:
 * - the **producer** dialect (detected from a payload) decides how that payload is read: its
 *   args, its timestamps, its promotion;
 * - the **consumer** dialect (the `peer` kiqgate stands in for) decides what kiqgate writes:
 *   the job hash and push commands of its client, the failure entry and where it goes, the
 *   process registry its tools read.
 *
 * Pure: no I/O. A dialect returns commands and payloads; src/client and src/engine send them.
 */
import type { DecodeOptions, DecodedJob } from '../decode.js';
import type { WireErrorCode } from '../errors.js';
import type { JsonObject, JsonValue } from '../json.js';
import type { KeyLayout } from '../keys.js';
import type { JobSpec } from '../normalize.js';
import type { Peer, PeerTraits } from '../peers.js';
import type { SchemaName } from '../schemas.js';
import type { AdminRules } from './admin-rules.js';
import type { DeadLimits, FailureInfo, FailureOutcome, FailurePolicy } from './failure-rules.js';
import type { ExecutionMetricsLayout } from '../execution-metrics.js';

/** Which end of a `queue:<q>` list a side uses: `head` (LPUSH/LPOP) or `tail` (RPUSH/RPOP). */
export type ListEnd = 'head' | 'tail';

/**
 * How a runtime uses its queue lists. Sidekiq, Verk and Exq push at the head and pop from the
 * tail (FIFO through LPUSH + BRPOP/RPOPLPUSH); Resque pushes at the tail and pops from the head.
 * A job given back (shutdown, recovery) goes to the consuming end, so it runs next.
 */
export interface QueueEnds {
  readonly push: ListEnd;
  readonly pop: ListEnd;
}

/** One Redis command of a push plan (sent as is: `name key ...args`). */
export interface PushCommand {
  readonly name: 'sadd' | 'lpush' | 'rpush' | 'zadd';
  readonly key: string;
  readonly args: readonly string[];
}

/** A job to push: its queue, its bytes, and its run time when scheduled. */
export interface PlannedJob {
  readonly queue: string;
  readonly payload: string;
  /** Epoch ms of a scheduled job; undefined pushes it now. */
  readonly runAtMs?: number | undefined;
}

/**
 * What normalize.ts has validated, for a dialect to write as its client would. The dialect
 * only lays the hash out (key order, units, its own fields); every check on the caller's
 * values has been made.
 */
export interface JobDraft {
  /** The caller's spec, for its key order and extra options. */
  readonly spec: Readonly<Record<string, unknown>>;
  readonly className: string;
  readonly args: JsonValue[];
  readonly queue: string;
  readonly jid: string;
  readonly retry: boolean | number;
  /** "Now" in epoch ms. */
  readonly now: number;
  /** Epoch ms of a scheduled job, undefined for an immediate push. */
  readonly runAtMs: number | undefined;
  /** `created_at` shared by a bulk push, when given. */
  readonly createdAt: number | undefined;
  /** The spec's keys that are options beyond class/args/queue/retry/jid/at/in/created_at/enqueued_at. */
  readonly extras: readonly string[];
  /** Verk's default `max_retry_count` for immediate pushes. */
  readonly verkMaxRetryCount: number | undefined;
}

/** The process registry a runtime's tools read, and so what kiqgate writes while standing in for it. */
export type ProcessRegistry =
  /** Sidekiq's `processes` set, `<identity>` hash and busy-work hash (see SidekiqProcessLayout). */
  | { readonly kind: 'sidekiq'; readonly layout: SidekiqProcessLayout }
  /** Verk's `verk_nodes` / `verk:node:<id>` keys (written with generated node ids only, as Verk does). */
  | { readonly kind: 'verk-nodes' }
  /** Resque's `workers` set, `worker:<id>`, `worker:<id>:started`, `workers:heartbeat` and per-worker stats. */
  | { readonly kind: 'resque-workers' }
  /** The runtime has a registry kiqgate does not write (Exq's node ping). */
  | { readonly kind: 'none'; readonly why: string };

/** What the process a Sidekiq version runs looks like in Redis (`Launcher#❤`), per version. */
export interface SidekiqProcessLayout {
  /** Beat period in seconds (BEAT_PAUSE). */
  readonly beatSeconds: number;
  /** `<identity>` + this is the busy-work hash (`:workers` up to 6.4.1, `:work` after). */
  readonly workKeySuffix: string;
  /** `per-slot`: one HSET per running job and EXPIRE always (6.4.1); `batched`: one HSET, only when busy. */
  readonly workWrite: 'per-slot' | 'batched';
  /** The command that writes the `<identity>` hash (HMSET up to 7.0, HSET after). */
  readonly processHashCommand: 'hmset' | 'hset';
  /** Whether `concurrency` is also its own hash field (8.1.2+). */
  readonly concurrencyField: boolean;
  /** Default `tag`: empty (6/7), or the name of the working directory (8). */
  readonly defaultTag: 'empty' | 'cwd-name';
  /** The `info` JSON, fields in this version's order. */
  info(p: ProcessInfoInput): string;
}

/** The values a process `info` JSON is built from. */
export interface ProcessInfoInput {
  hostname: string;
  startedAtMs: number;
  pid: number;
  tag: string;
  concurrency: number;
  queues: readonly string[];
  labels: readonly string[];
  identity: string;
}

/** Why bytes could not be read (a WireError's code, or a failure path that threw). */
export interface UnreadableWhy {
  code: WireErrorCode | 'failure_path';
  message: string;
  field?: string | undefined;
}

/** The context of one failure, as the engine knows it. */
export interface FailureContext {
  /** The queue the job was fetched from. */
  readonly fetchedQueue: string;
  readonly info: FailureInfo;
  /** When it failed, epoch ms. */
  readonly nowMs: number;
  readonly policy: FailurePolicy;
}

export interface Dialect {
  /** The name of this dialect (the `peer` option's value). */
  readonly peer: Peer;
  /** The table of wire differences (also exported as PEER_TRAITS[peer]). */
  readonly traits: PeerTraits;
  /** Peers that write exactly the same job hash (Sidekiq 6 and 7), this one included. */
  readonly candidates: readonly Peer[];
  /** Key prefix its client uses when none is configured (Exq: `exq`; Sidekiq, Verk: none). */
  readonly defaultNamespace: string | undefined;
  readonly queueEnds: QueueEnds;
  /** Dead-set limits it trims with when it adds an entry (when it has a dead set). */
  readonly deadLimits: DeadLimits;
  /** Its job schema in schemas/: the shape it writes, and the shape its consumer reads. */
  readonly schemas: { readonly written: SchemaName; readonly readable: SchemaName };
  /** The process registry its tools read. */
  readonly processRegistry: ProcessRegistry;
  /** Whether its scheduler enqueues at once a job scheduled in the past (Verk: 1 s or more). */
  readonly pastScheduleEnqueuesNow: boolean;
  /** The field holding the job's retry limit as its producer means it (`retry`; Verk: `max_retry_count`). */
  readonly retryField: string;
  /** Whether its client sends the push plan from inside a Lua script (Exq's enqueue script). */
  readonly pushesThroughScript: boolean;
  /**
   * Whether a class's opt-in `retries` re-run a failed handler in-process before the failure is
   * written (Resque: it has no retry set); the others retry through their retry sets.
   */
  readonly inProcessRetries: boolean;
  /**
   * OpenTelemetry (src/tracing): the `messaging.system` of its spans, and whether its job hash may
   * carry the trace context as top-level keys (`traceparent`, `tracestate`, `baggage`: what
   * opentelemetry-instrumentation-sidekiq's client middleware injects with
   * `OpenTelemetry.propagation.inject(job)`). Sidekiq keeps unknown keys; a runtime whose client
   * format has no room for them (Verk, Exq, Resque: normalizeJob refuses an extra option) gets
   * none, and its jobs' consumer spans start new traces.
   */
  readonly tracing: { readonly system: string; readonly contextInJob: boolean };
  /** The execution metrics its Web UI's Metrics page reads (Sidekiq 7 and 8); absent: none. */
  readonly executionMetrics?: ExecutionMetricsLayout;
  /** What an operator's tools see of its keys, and the bytes its admin API writes (admin-rules.ts). */
  readonly admin: AdminRules;

  /**
   * Whether a parsed job hash was written by this dialect. Dialects are asked in the order of
   * DETECTION_ORDER (dialects/index.ts); each may assume the ones before it said no.
   */
  detects(job: Readonly<Record<string, unknown>>): boolean;
  /** A new job id in its own shape, from a CSPRNG. */
  newJid(): string;
  /**
   * A runtime whose jobs carry no id (Resque): the id kiqgate derives from a payload's bytes,
   * for logs and events only, never written into a payload (normalizeJob's result, its own
   * `read`). Absent: the job's `jid`.
   */
  derivedJid?(payload: Buffer | string): string;
  /**
   * How its worker reads a payload it consumes, when that differs from decodeJob: Resque runs
   * any hash with a class (args splatted, a dashed class name classified), while args another
   * dialect encodes its own way (Verk's JSON string) are still read by that dialect. Absent: decodeJob.
   */
  read?(raw: Buffer, opts: DecodeOptions): DecodedJob;
  /** The job hash its client writes for a validated draft (throws WireError for options it cannot carry). */
  writeJob(draft: JobDraft): JsonObject;
  /**
   * The spec a caller would give kiqgate to write the same job as `doc` (one this dialect
   * wrote), keys in its order. `repush`: the job exists already (a poller or API re-push), so
   * the fields its client generates on a first push are passed along instead of generated.
   */
  specFromJob(doc: JsonObject, repush: boolean): JobSpec;
  /** The commands, in order, its client sends to push `jobs` (immediate and scheduled) in one batch. */
  pushPlan(jobs: readonly PlannedJob[], keys: KeyLayout): PushCommand[];
  /**
   * The outcome of a failure of `job` (whoever produced it) when this dialect's runtime is the
   * consumer: the entry it would write, and where (retry, dead, a failed list), or a drop.
   */
  failure(job: DecodedJob, ctx: FailureContext): FailureOutcome;
  /**
   * Where its runtime keeps bytes it could not read, when not in the dead set as the
   * Kiqgate::UndecodablePayload wrapper (undecodable.ts): Resque's `failed` list. Absent: dead.
   */
  unreadable?(raw: Buffer, why: UnreadableWhy, ctx: Omit<FailureContext, 'info'>): FailureOutcome;
  /** The bytes its scheduler pushes when `job` (one it wrote) moves from schedule/retry to its queue. */
  promotedPayload(job: DecodedJob, nowMs: number): string;
}
