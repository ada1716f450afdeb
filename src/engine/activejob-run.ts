/**
 * One Rails ActiveJob job's run: the wrapper's ActiveJob hash is read (wire/activejob), the
 * handler registered under its `job_class` runs with the deserialized arguments and the
 * envelope (`ctx.activeJob`), and a failure goes where Rails + Sidekiq would send it:
 *
 * - a `discardOn` error: done (counted as processed, nothing written);
 * - a `retryOn` error with attempts left: a NEW wrapper job (new jid, executions and the
 *   counter incremented, provider_job_id = this jid) replaces this one, into `schedule`,
 *   atomically with its removal from in-progress (the `replaced` result, fail-2.lua);
 * - anything else (and retry_on out of attempts): Sidekiq's retry of the wrapper, as for any job.
 *
 * An ActiveJob hash Rails could not read (a missing or ill-typed field, an unknown serializer,
 * a GlobalID that is not a URI) goes to dead with its exact bytes, the field named. Never throws.
 */
import type { Logger } from 'pino';
import { type DecodedJob, WireError, floatSeconds, nowMs } from '../wire/index.js';
import { type DecodedActiveJob, decodeActiveJob, pushedThroughSetter, retryOnPush } from '../wire/activejob/index.js';
import { describeThrown } from '../support/thrown-value.js';
import { logText } from './log-text.js';
import { counterKey, retryDelaySeconds, ruleFor } from './activejob-rules.js';
import { type JobResult, type JobRunnerDeps, JobError, givenBack, levelOn, recordFailure, safeLog } from './job-runner.js';
import type { JobContext, RegisteredClass } from './registry.js';
import type { NativeJson } from '../wire/index.js';

const ACK: JobResult = Object.freeze({ kind: 'ack' });

/** The outcome of a handler failure under the class's retry_on / discard_on rules, or undefined: Sidekiq's retry. */
function rescued(aj: DecodedActiveJob, job: DecodedJob, cls: RegisteredClass, err: unknown, errorClass: string, log: () => Logger): JobResult | undefined {
  const rule = ruleFor(err, errorClass, cls.retryOn, cls.discardOn);
  if (!rule) return undefined;
  if (rule.kind === 'discard') {
    safeLog(() => log().info({ errorClass }, 'discard_on: error swallowed, job discarded'));
    return ACK;
  }
  const key = counterKey(rule.rule);
  // executions_for: the counter of this rule, incremented; a payload without counters counts executions.
  const counters = aj.envelope.exception_executions;
  const counter = counters ? (counters[key] ?? 0) + 1 : aj.envelope.executions;
  if (counter >= (rule.rule.attempts ?? 5)) {
    safeLog(() => log().info({ errorClass, attempts: counter }, 'retry_on: attempts used up, the error goes to Sidekiq\'s retry'));
    return undefined;
  }
  const now = nowMs();
  const runAtMs = now + retryDelaySeconds(rule.rule, counter) * 1000;
  // A wait that is not a number (a `wait` function returning undefined, NaN, Infinity) cannot
  // be a schedule score: the failure takes Sidekiq's retry instead, never a lost job.
  if (!Number.isFinite(runAtMs) || runAtMs > MAX_RUN_AT_MS) {
    safeLog(() => log().warn({ errorClass, wait: String(runAtMs - now) }, 'retry_on: the wait is not a finite time; the error goes to Sidekiq\'s retry'));
    return undefined;
  }
  const push = retryOnPush(aj, { className: job.className, jid: job.jid, peer: job.dialect, setter: pushedThroughSetter(job.doc()) }, {
    counterKey: key, counter, runAtMs, queue: rule.rule.queue, priority: rule.rule.priority,
  }, now);
  safeLog(() => log().info({ errorClass, newJid: push.jid, runAt: push.runAtMs }, 'retry_on: re-enqueued into schedule'));
  return { kind: 'replaced', entry: push.payload, scoreSeconds: floatSeconds(push.runAtMs!) };
}

/** JavaScript's last Date (year 275760): the latest run time a schedule score may name. */
const MAX_RUN_AT_MS = 8.64e15;

/** Runs a decoded ActiveJob wrapper job to its result. */
export async function runActiveJob(job: DecodedJob, queue: string, signal: AbortSignal, deps: JobRunnerDeps): Promise<JobResult> {
  const { logger, registry } = deps;
  let aj: DecodedActiveJob;
  try {
    aj = decodeActiveJob(job);
  } catch (err) {
    const error = err instanceof WireError ? err : new WireError('invalid_job', describeThrown(err).errorMessage);
    safeLog(() => logger.error({ queue, code: error.code, field: error.field, jid: job.jid, err: logText(error.message) }, 'unreadable ActiveJob job: moved to dead, exact bytes in raw_base64'));
    return { kind: 'undecodable', error, atMs: nowMs() };
  }
  const className = aj.envelope.job_class;
  const startedAt = Date.now();
  let child: Logger | undefined;
  const log = (): Logger => (child ??= logger.child({ queue, class: className, jid: job.jid, job_id: aj.envelope.job_id }));
  const ctx = { className, jid: job.jid, startedAt, log, deps };
  const cls = registry.get(className);
  if (!cls) {
    const failure = new JobError('UnknownJobClass', `unknown ActiveJob class '${className}': no handler registered`);
    return recordFailure(job, queue, failure, 'unknown_class', undefined, ctx);
  }
  const { start, done } = deps.config.jobLogLevels;
  if (levelOn(logger, start)) safeLog(() => log()[start]('start'));
  const context: JobContext = {
    jid: job.jid, queue, className, retryCount: job.retryCount, signal, job, activeJob: aj.envelope,
    get logger() { return log(); },
  };
  let failed = false;
  let failure: unknown;
  try {
    await cls.handler(aj.arguments as unknown as NativeJson[], context);
  } catch (err) {
    failed = true;
    failure = err;
  }
  if (signal.aborted) return givenBack(log, queue, !failed, startedAt);
  if (!failed) {
    if (levelOn(logger, done)) safeLog(() => log()[done]({ durationMs: Date.now() - startedAt }, 'done'));
    return ACK;
  }
  const errorClass = describeThrown(failure).errorClass;
  const r = rescued(aj, job, cls, failure, errorClass, log);
  return r ?? recordFailure(job, queue, failure, 'handler', cls.retryAt, ctx);
}
