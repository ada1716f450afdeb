/**
 * A real kiqgate Worker for the engine-backed compat checks: consumes the given queues under the
 * check's namespace with one handler per class (recording what it saw, or failing, or waiting
 * for the abort signal), and helpers to wait for Redis state with a deadline.
 */
import { pino } from 'pino';
import { Worker, type Handler, type WorkerOptions } from '../../engine/index.js';
import type { DecodedJob, NativeJson } from '../../wire/index.js';
import { type ActiveJobEnvelope, decodeActiveJob, isActiveJobWrapper } from '../../wire/activejob/index.js';

/** The class a job's handler is registered under: the ActiveJob class for a Rails wrapper job. */
export function handlerClass(job: DecodedJob): string {
  if (!isActiveJobWrapper(job.className)) return job.className;
  try {
    return decodeActiveJob(job).envelope.job_class;
  } catch {
    return job.className;
  }
}

export interface RecordedRun {
  raw: Buffer;
  args: NativeJson[];
  className: string;
  queue: string;
  retryCount: number | undefined;
  /** An ActiveJob job's envelope. */
  activeJob?: ActiveJobEnvelope | undefined;
}

export type Behaviour = 'record' | 'fail' | 'hang';

export interface CheckWorker {
  worker: Worker;
  runs: RecordedRun[];
  stop(): Promise<void>;
}

/**
 * The check Workers of this process that may be running, so an interrupted run can stop them
 * all (stopCheckWorkers) before it removes its keys; after that, none may start.
 */
const live = new Set<Worker>();
let closed = false;

/** Stops every check Worker still running and refuses new ones (an interrupted compat run). */
export async function stopCheckWorkers(): Promise<void> {
  closed = true;
  await Promise.all([...live].map((w) => w.stop({ force: true }).catch(() => undefined)));
}

/** Starts a Worker whose handlers behave as asked (per class) and record every run. */
export async function startCheckWorker(
  redisUrl: string,
  namespace: string,
  queues: Iterable<string>,
  classes: Iterable<string>,
  behaviour: Behaviour | ((className: string) => Behaviour),
  extra: Partial<WorkerOptions> = {},
): Promise<CheckWorker> {
  if (closed) throw new Error('the compat run was interrupted: no new worker starts');
  const runs: RecordedRun[] = [];
  const behave = typeof behaviour === 'function' ? behaviour : () => behaviour;
  const handlers = new Map<string, Handler>();
  for (const cls of new Set(classes)) {
    handlers.set(cls, async (args, ctx) => {
      runs.push({ raw: ctx.job.raw, args, className: ctx.className, queue: ctx.queue, retryCount: ctx.retryCount, activeJob: ctx.activeJob });
      const b = behave(cls);
      if (b === 'fail') throw new Error('compat failure on purpose');
      if (b === 'hang') {
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        throw new Error('aborted at shutdown');
      }
    });
  }
  const worker = new Worker({
    redis: redisUrl,
    namespace,
    queues: Object.fromEntries([...new Set(queues)].map((q) => [q, 5])),
    handlers,
    sidekiqHeartbeat: false,
    pollIntervalMs: 200,
    shutdownTimeoutMs: 2000,
    blockTimeoutSeconds: 1,
    logger: pino({ level: 'silent' }),
    ...extra,
  });
  live.add(worker);
  void worker.stopped.then(() => live.delete(worker));
  await worker.start();
  return { worker, runs, stop: () => worker.stop() };
}

/** Polls `cond` until it is true or `timeoutMs` passes; resolves to its last value. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The queue a payload belongs in: its `queue` field, else the key's `queue:<q>` part. */
export function queueOf(payloadQueue: string | undefined, key: string): string {
  if (payloadQueue && /^[^\s:]+$/.test(payloadQueue)) return payloadQueue;
  const m = /queue:([^:]+)$/.exec(key) ?? /inprogress:([^:]+):/.exec(key);
  return m?.[1] ?? 'default';
}
