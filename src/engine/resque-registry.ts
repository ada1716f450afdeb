/**
 * A worker standing in for Resque (peer resque): its entry in Resque's worker registry, as a
 * Resque worker writes it (resque-wire.md §5), so `Resque.workers`, `Resque::Worker.working`
 * and the web UI list it and what it runs. The command plans are dialects/resque.ts's; this
 * file only sends them.
 *
 * - start: HDEL heartbeat field, SADD workers, SET `worker:<id>:started`; then the heartbeat;
 * - every `resqueHeartbeatMs` (60 s): HSET `workers:heartbeat <id> <Redis TIME, iso8601>`, and
 *   (kiqgate's addition, idempotent) SADD workers / SET `:started` NX, so an entry that a Resque
 *   worker pruned while this one lives comes back;
 * - while a job runs: SET `worker:<id>` `{"queue","run_at","payload"}`; a Resque worker runs one
 *   job at a time, kiqgate many: the key shows the most recently started job still running,
 *   and is deleted when none runs;
 * - stop: the unregister pipeline (per-worker stats included), after the last job.
 *
 * Registry writes are best effort: a failed write is logged, never a job's failure (the job's
 * own state lives in queue, in-progress and `failed`).
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  type Command, type ResqueKeys, heartbeatPlan, registerPlan, resqueKeys, resqueWorkerId, unregisterPlan, workingValue,
} from '../wire/dialects/resque.js';
import type { KeyLayout } from '../wire/index.js';

interface Running { queue: string; startedAtMs: number; payload: string }

export class ResqueRegistry {
  /** Resque's worker id: `<hostname>:<pid>:<queues joined by ",">`. */
  readonly id: string;
  readonly keys: ResqueKeys;
  private readonly running = new Map<object, Running>();
  private timer: NodeJS.Timeout | undefined;
  private shown: object | undefined;

  constructor(
    private readonly redis: Redis,
    layout: KeyLayout,
    queues: readonly string[],
    private readonly heartbeatMs: number,
    private readonly log: Logger,
  ) {
    this.id = resqueWorkerId(hostname(), process.pid, queues);
    this.keys = resqueKeys(layout);
  }

  /** Registers the worker and starts its heartbeat (rejects when Redis refuses: start fails). */
  async start(): Promise<void> {
    await this.send(registerPlan(this.keys, this.id, Date.now()));
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch((err: unknown) => this.log.warn({ err }, 'resque heartbeat failed')), this.heartbeatMs);
    this.timer.unref();
  }

  /** Stops the heartbeat and unregisters (call after the last job finished or was given back). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.running.clear();
    await this.send(unregisterPlan(this.keys, this.id));
  }

  /** A job began: `worker:<id>` shows it (`payloadJson` verbatim: the decoded job's bytes). */
  jobStarted(token: object, queue: string, payloadJson: string): void {
    const r = { queue, startedAtMs: Date.now(), payload: payloadJson };
    this.running.set(token, r);
    this.show(token, r);
  }

  /** A job ended (done, failed or given back): `worker:<id>` shows another running one, or goes. */
  jobFinished(token: object): void {
    if (!this.running.delete(token) || this.shown !== token) return;
    const last = [...this.running].at(-1);
    if (last) this.show(last[0], last[1]);
    else {
      this.shown = undefined;
      this.fire(this.redis.del(this.keys.worker(this.id)));
    }
  }

  private show(token: object, r: Running): void {
    this.shown = token;
    this.fire(this.redis.set(this.keys.worker(this.id), workingValue(r.queue, r.startedAtMs, r.payload)));
  }

  private async beat(): Promise<void> {
    const [sec, usec] = await this.redis.time();
    const plan = heartbeatPlan(this.keys, this.id, Number(sec) * 1000 + Math.floor(Number(usec) / 1000));
    await this.send([...plan, ['sadd', this.keys.workers, this.id]]);
    // Re-created only if pruned: Resque sets it once, at start.
    await this.redis.set(this.keys.workerStarted(this.id), registerPlan(this.keys, this.id, Date.now())[2]![2]!, 'NX');
  }

  private async send(plan: Command[]): Promise<void> {
    const pipe = this.redis.pipeline();
    for (const [name, ...args] of plan) pipe.call(name, ...args);
    const results = (await pipe.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
  }

  private fire(p: Promise<unknown>): void {
    p.catch((err: unknown) => this.log.warn({ err }, 'resque registry write failed'));
  }
}
