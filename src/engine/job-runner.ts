/**
 * One job's life in memory: raw bytes → decode → handler lookup → args check → run → result.
 *
 * This file never talks to Redis and never throws: whatever the payload or the handler does,
 * the caller gets a {@link JobResult} saying what to write (ack, retry/dead entry, drop, or
 * undecodable: the tick batch writes the payload's Kiqgate::UndecodablePayload dead entry). The queue runner writes results in batches; that split keeps the
 * per-job path free of round trips.
 */
import type { Logger } from 'pino';
import {
  type DecodedJob, type FailureOutcome, WireError, decodeJob, failureOutcome, nowMs,
} from '../wire/index.js';
import type { WorkerConfig } from './config.js';
import type { EngineEmitter } from './events.js';
import { type JobContext, Registry } from './registry.js';

export type JobResult =
  | { kind: 'ack' }
  | { kind: 'failed'; outcome: FailureOutcome }
  | { kind: 'undecodable'; error: WireError; atMs: number };

export interface JobRunnerDeps {
  registry: Registry;
  config: WorkerConfig;
  logger: Logger;
  events: EngineEmitter;
}

/** An error the engine raises itself (unknown class, bad args), with a Sidekiq-style class name. */
export class JobError extends Error {
  constructor(override readonly name: string, message: string) {
    super(message);
  }
}

/** error_class as Sidekiq writes it: the exception's class name. */
function errorClassOf(err: unknown): string {
  if (err instanceof Error) {
    const ctor = Object.getPrototypeOf(err)?.constructor?.name;
    return err.name && err.name !== 'Error' ? err.name : typeof ctor === 'string' && ctor !== '' ? ctor : 'Error';
  }
  return 'Error';
}

function errorMessageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return typeof err === 'string' ? err : `non-error thrown: ${JSON.stringify(err)}`;
  } catch {
    return `non-error thrown: ${String(err)}`;
  }
}

/** Stack frames without the message line, `at ` stripped (Sidekiq's backtrace is one frame a line). */
function backtraceOf(err: unknown): string[] {
  if (!(err instanceof Error) || typeof err.stack !== 'string') return [];
  return err.stack.split('\n').slice(1).map((l) => l.trim().replace(/^at /, '')).filter((l) => l !== '');
}

/** True when the job asks for its backtrace to be stored (Sidekiq's `backtrace` option). */
function wantsBacktrace(job: DecodedJob): boolean {
  const bt = job.fields.backtrace;
  return bt === true || (typeof bt === 'number' && bt > 0);
}

/** Converts a class's retryAt result (a Date, epoch ms, or Verk-style epoch seconds) to epoch ms. */
function toEpochMs(v: Date | number): number {
  const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? (Math.abs(v) > 1e11 ? v : v * 1000) : NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`retryAt must return a Date or an epoch number, got ${String(v)}`);
  return ms;
}

/** The result of every job that succeeded (one object: the hot path allocates none). */
const ACK: JobResult = Object.freeze({ kind: 'ack' });

/** A handler's context; a class, so that making one per job is a plain allocation. */
class RunContext implements JobContext {
  constructor(
    readonly jid: string | undefined,
    readonly queue: string,
    readonly className: string,
    readonly retryCount: number | undefined,
    readonly signal: AbortSignal,
    readonly job: DecodedJob,
    private readonly log: () => Logger,
  ) {}

  /** The job's child logger, made on first use. */
  get logger(): Logger {
    return this.log();
  }
}

/** Runs one fetched payload to a result. `signal` aborts the handler at a hard shutdown. */
export async function runJob(raw: Buffer, queue: string, signal: AbortSignal, deps: JobRunnerDeps): Promise<JobResult> {
  const { config, logger, events } = deps;
  let job: DecodedJob;
  try {
    job = decodeJob(raw, { maxBytes: config.maxPayloadBytes });
  } catch (err) {
    const error = err instanceof WireError ? err : new WireError('invalid_json', errorMessageOf(err));
    logger.error({ queue, code: error.code, field: error.field, bytes: raw.length, err: error.message }, 'undecodable payload: moved to dead, exact bytes in raw_base64');
    return { kind: 'undecodable', error, atMs: nowMs() };
  }

  const startedAt = Date.now();
  const base = { queue, className: job.className, jid: job.jid, startedAt };
  const cls = deps.registry.get(job.className);
  let failure: unknown;
  if (!cls) {
    failure = new JobError('UnknownJobClass', `unknown job class '${job.className}': no handler registered`);
  } else {
    const problem = Registry.argsProblem(cls, job.args);
    if (problem) failure = new JobError('InvalidJobArgs', problem);
  }

  // The child logger is made on first use: most jobs never log, and a child per job costs.
  let child: Logger | undefined;
  const log = (): Logger => (child ??= logger.child({ queue, class: job.className, jid: job.jid }));
  const { start, done } = config.jobLogLevels;
  if (failure === undefined && cls) {
    // Event payloads are built only when someone listens (most workers have no listener).
    if (events.listenerCount('job:started') > 0) events.fire('job:started', base);
    if (logger.isLevelEnabled(start)) log()[start]('start');
    try {
      await cls.handler(job.args, new RunContext(job.jid, queue, job.className, job.retryCount, signal, job, log));
      if (logger.isLevelEnabled(done)) log()[done]({ durationMs: Date.now() - startedAt }, 'done');
      if (events.listenerCount('job:finished') > 0) {
        const finishedAt = Date.now();
        events.fire('job:finished', { ...base, finishedAt, durationMs: finishedAt - startedAt });
      }
      return ACK;
    } catch (err) {
      failure = err;
    }
  }

  const failedAt = nowMs();
  let outcome: FailureOutcome;
  try {
    outcome = failureOutcome(job, queue, {
      errorMessage: errorMessageOf(failure),
      errorClass: errorClassOf(failure),
      ...(wantsBacktrace(job) ? { backtrace: backtraceOf(failure) } : {}),
    }, failedAt, {
      defaultMaxRetries: config.maxRetries,
      ...(cls?.retryAt ? { retryAt: (ms: number, count: number) => toEpochMs(cls.retryAt!(new Date(ms), count)) } : {}),
    });
  } catch (err) {
    // A retryAt that throws (or returns garbage) must not lose the job: fall back to the default backoff.
    log().error({ err }, 'retryAt failed; using the default backoff');
    outcome = failureOutcome(job, queue, { errorMessage: errorMessageOf(failure), errorClass: errorClassOf(failure) }, failedAt, { defaultMaxRetries: config.maxRetries });
  }
  const durationMs = Date.now() - startedAt;
  const level = config.jobLogLevels.fail;
  if (outcome.kind === 'drop') log()[level]({ err: errorMessageOf(failure), errorClass: errorClassOf(failure), reason: outcome.reason }, 'fail: job dropped');
  else log()[level]({ err: errorMessageOf(failure), errorClass: errorClassOf(failure), retryCount: outcome.retryCount, to: outcome.kind }, `fail: moved to ${outcome.kind}`);
  events.fire('job:failed', { ...base, failedAt: Math.floor(failedAt), durationMs, error: failure, outcome: outcome.kind });
  return { kind: 'failed', outcome };
}
