/**
 * One Resque job's life in memory (peer resque), the counterpart of job-runner.ts's Sidekiq path:
 * raw bytes → Resque's lenient reading → handler → ack, or the `failed` entry to write.
 *
 * - No retries (Resque has none): a failure is written to `failed` at once. A class may opt in
 *   with `retries: N` (registry.ts): the handler runs again in-process, up to N more times,
 *   after n × `retryDelayMs` (default 1 s); the job stays in in-progress meanwhile (a crash
 *   re-runs it, a stop gives it back). A Resque payload has nowhere to keep a retry count, so a
 *   schedule zset could not count attempts without changing the job's bytes.
 * - An unknown class is an ordinary failure (Resque: NameError), with no retries.
 * - A payload that cannot be read becomes an undecodable `failed` entry keeping its bytes.
 * - Never throws (runJob's catch records a failure-path error as an undecodable entry).
 */
import type { Logger } from 'pino';
import { describeThrown } from '../support/thrown-value.js';
import { delay } from '../support/delay.js';
import { type DecodedJob, WireError, nowMs } from '../wire/index.js';
import { decodeResqueJob, resqueBacktrace, resqueFailureEntry, undecodableFailureEntry } from '../wire/dialects/resque.js';
import { type JobResult, type JobRunnerDeps, JobError } from './job-runner.js';
import { logText } from './log-text.js';
import { type JobContext, Registry } from './registry.js';
import type { ResqueRegistry } from './resque-registry.js';

const ACK: JobResult = Object.freeze({ kind: 'ack' });

function quietly(write: () => void): void {
  try {
    write();
  } catch {
    // a broken logger loses its line, never the job
  }
}

/** Runs one Resque payload fetched from `queue` to a result (see the file comment). */
export async function runResqueJob(raw: Buffer, queue: string, signal: AbortSignal, deps: JobRunnerDeps, side: ResqueRegistry): Promise<JobResult> {
  const { config, logger } = deps;
  const where = { worker: side.id, queue };
  let job: DecodedJob;
  try {
    job = decodeResqueJob(raw, { maxBytes: config.maxPayloadBytes });
  } catch (err) {
    const e = err instanceof WireError ? err : new WireError('invalid_json', describeThrown(err).errorMessage);
    quietly(() => logger.error({ queue, code: e.code, field: e.field, bytes: raw.length, err: logText(e.message) }, 'undecodable payload: kept in failed, exact bytes in its payload.raw_base64'));
    return { kind: 'resque-failed', entry: undecodableFailureEntry(raw, { code: e.code, message: e.message, field: e.field }, { ...where, atMs: nowMs() }) };
  }
  const token = {};
  side.jobStarted(token, queue, job.text);
  try {
    return await attempt(job, queue, signal, deps, side);
  } finally {
    side.jobFinished(token);
  }
}

async function attempt(job: DecodedJob, queue: string, signal: AbortSignal, deps: JobRunnerDeps, side: ResqueRegistry): Promise<JobResult> {
  const { logger, events, config } = deps;
  const startedAt = Date.now();
  const base = { queue, className: job.className, jid: job.jid, startedAt };
  let child: Logger | undefined;
  const log = (): Logger => (child ??= logger.child({ queue, class: job.className, jid: job.jid }));
  const cls = deps.registry.get(job.className);
  let failure: unknown;
  if (!cls) failure = new JobError('UnknownJobClass', `unknown job class '${job.className}': no handler registered`);
  else {
    const problem = Registry.argsProblem(cls, job.args);
    if (problem) failure = new JobError('InvalidJobArgs', problem);
  }
  if (cls && failure === undefined) {
    if (events.listenerCount('job:started') > 0) events.fire('job:started', base);
    const ctx: JobContext = { jid: job.jid, queue, className: job.className, retryCount: undefined, signal, job, get logger() { return log(); } };
    for (let run = 0; ; run++) {
      try {
        await cls.handler(job.args, ctx);
        if (signal.aborted) return givenBack(log, queue);
        const done = config.jobLogLevels.done;
        if (done !== 'silent') quietly(() => log()[done]({ durationMs: Date.now() - startedAt }, 'done'));
        if (events.listenerCount('job:finished') > 0) events.fire('job:finished', { ...base, finishedAt: Date.now(), durationMs: Date.now() - startedAt });
        return ACK;
      } catch (err) {
        if (signal.aborted) return givenBack(log, queue);
        failure = err;
      }
      if (run >= (cls.retries ?? 0)) break;
      // Opt-in retry: wait n × retryDelayMs, or until a hard stop aborts (the job is then given back).
      const wait = delay((run + 1) * (cls.retryDelayMs ?? 1000));
      const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      quietly(() => log().info({ err: logText(describeThrown(failure).errorMessage), rerun: run + 1 }, 'failed; running it again (class retries)'));
      await Promise.race([wait.promise, aborted]);
      wait.cancel();
      if (signal.aborted) return givenBack(log, queue);
    }
  }
  const d = describeThrown(failure);
  const atMs = nowMs();
  const entry = resqueFailureEntry({
    payloadJson: job.text, exception: d.errorClass, error: d.errorMessage, backtrace: resqueBacktrace(d.backtrace), worker: side.id, queue, atMs,
  });
  const level = config.jobLogLevels.fail;
  if (level !== 'silent') quietly(() => log()[level]({ err: logText(d.errorMessage), errorClass: d.errorClass, to: 'failed' }, 'fail: moved to failed'));
  if (events.listenerCount('job:failed') > 0) {
    events.fire('job:failed', { ...base, failedAt: Math.floor(atMs), durationMs: Date.now() - startedAt, error: failure, errorClass: d.errorClass, errorMessage: d.errorMessage, outcome: 'failed' });
  }
  return { kind: 'resque-failed', entry };
}

function givenBack(log: () => Logger, queue: string): JobResult {
  quietly(() => log().info(`aborted at shutdown: given back to ${queue}`));
  return { kind: 'given-back' };
}
