/**
 * One job's life in memory: raw bytes → decode → handler lookup → args check → run → result.
 *
 * This file never talks to Redis and never throws: whatever the payload or the handler does,
 * the caller gets a {@link JobResult} saying what to write (ack, retry/dead entry, drop, or
 * undecodable: the tick batch writes the payload's Kiqgate::UndecodablePayload dead entry). The
 * queue runner writes results in batches; that split keeps the per-job path free of round trips.
 */
import type { Logger } from 'pino';
import {
  type DecodedJob, type FailureCause, type FailureOutcome, WireError, decodeJob, dialectFor, failureOutcome, isEpochMilliseconds, nowMs,
} from '../wire/index.js';
import type { LogLevel, WorkerConfig } from './config.js';
import type { EngineEmitter } from './events.js';
import { logText } from './log-text.js';
import { type JobContext, Registry } from './registry.js';
import { type ThrownDescription, describeThrown } from '../support/thrown-value.js';
import { delay } from '../support/delay.js';
import { isActiveJobWrapper } from '../wire/activejob/index.js';
import { runActiveJob } from './activejob-run.js';
import type { ConsumerTracing } from '../tracing/consumer-tracing.js';
import type { JobObserver } from './job-observer.js';

export type JobResult =
  | { kind: 'ack' }
  | { kind: 'failed'; outcome: FailureOutcome }
  | { kind: 'undecodable'; error: WireError; atMs: number }
  /** Computing the failure's entry threw (a bug, a payload it cannot handle): to dead as its exact bytes. */
  | { kind: 'dead-raw'; errorClass: string; message: string; atMs: number }
  /** The handler settled after the shutdown abort: the runner has given the job back to its queue. */
  | { kind: 'given-back' }
  /** ActiveJob's retry_on: the job leaves in-progress and a new one enters `schedule`, in one step (counts as processed). */
  | { kind: 'replaced'; entry: string; scoreSeconds: string };

/** Told when a job starts and ends (a registry that shows running jobs: Resque's `worker:<id>`). */
export interface RunningJobs {
  jobStarted(token: object, queue: string, payloadJson: string): void;
  jobFinished(token: object): void;
}

export interface JobRunnerDeps {
  registry: Registry;
  config: WorkerConfig;
  logger: Logger;
  events: EngineEmitter;
  /** Shown the running jobs (the consumer's registry, when it lists them). */
  tracker?: RunningJobs | undefined;
  /** The worker's identity, for failure entries that name it (Resque's `worker`). */
  workerId?: string | undefined;
  /** OpenTelemetry consumer spans (the `tracing` option; src/tracing): absent when off. */
  tracing?: ConsumerTracing | undefined;
  /** [metrics] told each job's end (job-observer.ts); absent when nothing counts jobs. */
  observer?: JobObserver | undefined;
}

/** An error the engine raises itself (unknown class, bad args), with a Sidekiq-style class name. */
export class JobError extends Error {
  constructor(override readonly name: string, message: string) {
    super(message);
  }
}

/** True when the job asks for its backtrace to be stored (Sidekiq's `backtrace` option). */
function wantsBacktrace(job: DecodedJob): boolean {
  const bt = job.fields.backtrace;
  return bt === true || (typeof bt === 'number' && bt > 0);
}

/** Converts a class's retryAt result (a Date, epoch ms, or Verk-style epoch seconds) to epoch ms. */
function toEpochMs(v: Date | number): number {
  const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? (isEpochMilliseconds(v) ? v : v * 1000) : NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`retryAt must return a Date or an epoch number, got ${String(v)}`);
  return ms;
}

/** Whether `level` is on: pino's isLevelEnabled('silent') says true; a logger that throws: off. */
export function levelOn(logger: Logger, level: LogLevel): boolean {
  if (level === 'silent') return false;
  try {
    return logger.isLevelEnabled(level);
  } catch {
    return false;
  }
}

/**
 * Writes one log line of the job path. A logger that throws (a broken sink, a hook) loses that
 * line and nothing else: it never keeps a job from running, and never changes its outcome.
 */
export function safeLog(write: () => void): void {
  try {
    write();
  } catch {
    // The line is lost; the job's outcome is what Redis records.
  }
}

/** The result of every job that succeeded (one object: the hot path allocates none). */
const ACK: JobResult = Object.freeze({ kind: 'ack' });
const GIVEN_BACK: JobResult = Object.freeze({ kind: 'given-back' });

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

/**
 * Runs one fetched payload to a result. `signal` aborts the handler at a hard shutdown.
 * Never rejects: if computing a failure's entry throws (a bug, a payload failureOutcome cannot
 * handle), the job goes to dead as its exact bytes with the reason, instead of staying in
 * in-progress to be re-run forever. Log calls cannot get there: each is {@link safeLog}ged.
 */
export async function runJob(raw: Buffer, queue: string, signal: AbortSignal, deps: JobRunnerDeps): Promise<JobResult> {
  try {
    return await runDecoded(raw, queue, signal, deps);
  } catch (err) {
    const d = describeThrown(err);
    safeLog(() => deps.logger.error({ queue, bytes: raw.length, errorClass: d.errorClass, err: logText(d.errorMessage) }, 'recording the job\'s failure failed: moved to dead with its raw bytes'));
    return { kind: 'dead-raw', errorClass: d.errorClass, message: `failure path failed: ${d.errorMessage}`.slice(0, 10_000), atMs: nowMs() };
  }
}

async function runDecoded(raw: Buffer, queue: string, signal: AbortSignal, deps: JobRunnerDeps): Promise<JobResult> {
  const { config, logger, events } = deps;
  let job: DecodedJob;
  // The consumer's own reading when it has one (Resque runs any hash with a class), else the
  // producer's dialect, detected from the payload, reads it.
  const consumer = dialectFor(config.peer);
  try {
    job = consumer.read ? consumer.read(raw, { maxBytes: config.maxPayloadBytes }) : decodeJob(raw, { maxBytes: config.maxPayloadBytes });
  } catch (err) {
    const error = err instanceof WireError ? err : new WireError('invalid_json', describeThrown(err).errorMessage);
    safeLog(() => logger.error({ queue, code: error.code, field: error.field, bytes: raw.length, err: logText(error.message) }, `undecodable payload: moved to ${consumer.unreadable ? 'failed' : 'dead'}, exact bytes in raw_base64`));
    return { kind: 'undecodable', error, atMs: nowMs() };
  }

  // ActiveJob hook (engine/activejob-run.ts): a Rails wrapper job runs its ActiveJob class's
  // handler, unless a handler is registered under the wrapper's own name.
  if (isActiveJobWrapper(job.className) && !deps.registry.get(job.className)) return runActiveJob(job, queue, signal, deps);

  const startedAt = Date.now();
  const base = { queue, className: job.className, jid: job.jid, startedAt };
  const cls = deps.registry.get(job.className);
  // `failed` is separate from `failure`: a handler may throw undefined (still a failure).
  let failed = false;
  let failure: unknown;
  let cause: FailureCause = 'handler';
  if (!cls) {
    failed = true;
    failure = new JobError('UnknownJobClass', `unknown job class '${job.className}': no handler registered`);
    cause = 'unknown_class';
  } else {
    const problem = Registry.argsProblem(cls, job.args);
    if (problem) {
      failed = true;
      failure = new JobError('InvalidJobArgs', problem);
      cause = 'invalid_args';
    }
  }

  // The child logger is made on first use: most jobs never log, and a child per job costs.
  let child: Logger | undefined;
  const log = (): Logger => (child ??= logger.child({ queue, class: job.className, jid: job.jid }));
  const { start, done } = config.jobLogLevels;
  if (!failed && cls) {
    // Event payloads are built only when someone listens (most workers have no listener).
    if (events.listenerCount('job:started') > 0) events.fire('job:started', base);
    // Checked before a closure is made: the per-job path allocates nothing for a line that is off.
    if (levelOn(logger, start)) safeLog(() => log()[start]('start'));
    const token = {};
    deps.tracker?.jobStarted(token, queue, job.text);
    try {
      // A consumer without a retry set (Resque) re-runs a class that opts in (`retries`) in-process.
      const reruns = consumer.inProcessRetries ? (cls.retries ?? 0) : 0;
      for (let run = 0; ; run++) {
        failed = false;
        try {
          // [tracing] each run in a process span when tracing is on; else the plain call.
          if (deps.tracing) await deps.tracing.run(job, queue, () => cls.handler(job.args, new RunContext(job.jid, queue, job.className, job.retryCount, signal, job, log)));
          else await cls.handler(job.args, new RunContext(job.jid, queue, job.className, job.retryCount, signal, job, log));
        } catch (err) {
          failed = true;
          failure = err;
        }
        if (!failed || signal.aborted || run >= reruns) break;
        // Wait n × retryDelayMs, or until a hard stop aborts (the job is then given back).
        const wait = delay((run + 1) * (cls.retryDelayMs ?? 1000));
        // The runner's signal is shared by every job: its listener is removed after each wait.
        let onAbort = (): void => undefined;
        const aborted = new Promise<void>((resolve) => { onAbort = resolve; signal.addEventListener('abort', onAbort, { once: true }); });
        const rerun = run + 1;
        safeLog(() => log().info({ err: logText(describeThrown(failure).errorMessage), rerun }, 'failed; running it again (class retries)'));
        await Promise.race([wait.promise, aborted]);
        wait.cancel();
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) break;
      }
    } finally {
      deps.tracker?.jobFinished(token);
    }
    // A settle after the shutdown abort: stop() has already given the job back to its queue.
    if (signal.aborted) return givenBack(log, queue, !failed, startedAt);
    if (!failed) {
      deps.observer?.jobEnded(queue, job.className, Date.now() - startedAt, undefined);
      if (levelOn(logger, done)) safeLog(() => log()[done]({ durationMs: Date.now() - startedAt }, 'done'));
      if (events.listenerCount('job:finished') > 0) {
        const finishedAt = Date.now();
        events.fire('job:finished', { ...base, finishedAt, durationMs: finishedAt - startedAt });
      }
      return ACK;
    }
  }
  return recordFailure(job, queue, failure, cause, cls?.retryAt, { ...base, log, deps });
}

/** Logs what happened to a job whose handler settled after the shutdown abort (it was given back). */
export function givenBack(log: () => Logger, queue: string, succeeded: boolean, startedAt: number): JobResult {
  const durationMs = Date.now() - startedAt;
  if (succeeded) safeLog(() => log().warn({ durationMs }, `finished after the shutdown abort; already given back to ${queue}, so it will run again`));
  else safeLog(() => log().info({ durationMs }, `aborted at shutdown: given back to ${queue}`));
  return GIVEN_BACK;
}

/** Records a failure: the retry/dead entry (or drop), the log line and the job:failed event. */
export function recordFailure(
  job: DecodedJob, queue: string, failure: unknown, cause: FailureCause,
  retryAt: ((failedAt: Date, retryCount: number) => Date | number) | undefined,
  ctx: { className: string; jid: string | undefined; startedAt: number; log: () => Logger; deps: JobRunnerDeps },
): JobResult {
  const { config, events } = ctx.deps;
  // The thrown value is read once, here; everything below uses these plain strings.
  const error: ThrownDescription = describeThrown(failure);
  const info = { errorMessage: error.errorMessage, errorClass: error.errorClass, cause };
  const failedAt = nowMs();
  // The entry is the one the runtime this worker stands in for would write, whoever produced the job.
  const consumer = config.peer;
  const worker = ctx.deps.workerId === undefined ? {} : { worker: ctx.deps.workerId };
  let outcome: FailureOutcome;
  try {
    outcome = failureOutcome(job, queue, { ...info, stack: error.backtrace, ...(wantsBacktrace(job) ? { backtrace: error.backtrace } : {}) }, failedAt, {
      defaultMaxRetries: config.maxRetries, consumer, ...worker,
      ...(retryAt ? { retryAt: (ms: number, count: number) => toEpochMs(retryAt(new Date(ms), count)) } : {}),
    });
  } catch (err) {
    // A retryAt that throws (or returns garbage) must not lose the job: fall back to the default backoff.
    const d = describeThrown(err);
    safeLog(() => ctx.log().error({ errorClass: d.errorClass, err: logText(d.errorMessage) }, 'retryAt failed; using the default backoff'));
    outcome = failureOutcome(job, queue, { ...info, stack: error.backtrace }, failedAt, { defaultMaxRetries: config.maxRetries, consumer, ...worker });
  }
  const durationMs = Date.now() - ctx.startedAt;
  ctx.deps.observer?.jobEnded(queue, ctx.className, durationMs, outcome.kind);
  const level = config.jobLogLevels.fail;
  if (levelOn(ctx.deps.logger, level)) {
    const o = outcome;
    const logged = { err: logText(error.errorMessage), errorClass: error.errorClass };
    safeLog(() => {
      if (o.kind === 'drop') ctx.log()[level]({ ...logged, reason: o.reason }, 'fail: job dropped');
      else ctx.log()[level]({ ...logged, retryCount: o.retryCount, to: o.kind }, `fail: moved to ${o.kind}`);
    });
  }
  if (events.listenerCount('job:failed') > 0) {
    events.fire('job:failed', {
      queue, className: ctx.className, jid: ctx.jid, startedAt: ctx.startedAt, failedAt: Math.floor(failedAt), durationMs,
      error: failure, errorClass: error.errorClass, errorMessage: error.errorMessage, outcome: outcome.kind,
    });
  }
  return { kind: 'failed', outcome };
}
