/**
 * One queue's runner (Verk's QueueManager + WorkersManager): reliable fetch into
 * `inprogress:<q>:<node>`, bounded concurrency, batched acks, supervision, pause and stop.
 *
 * Guarantees:
 * - a job is always in `queue:<q>`, in this node's in-progress list, or in retry/dead; it is
 *   removed from in-progress only after its handler settled (ack = LREM of the exact bytes);
 * - each tick sends its failure writes, stat increments, and one script call that acks the
 *   finished jobs and fetches the next batch, in one pipeline (one round trip); an idle runner blocks in BLMOVE instead of polling;
 * - on start, the node's own in-progress list is given back to the queue first (Verk);
 * - if the loop throws (Redis down, a script error) it restarts with backoff; other queues
 *   are separate runners and go on;
 * - stop() lets running jobs finish until the deadline, then aborts them and gives every
 *   unfinished job back to the consuming end of the queue, bytes unchanged.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { KeyLayout } from '../wire/index.js';
import type { WorkerConfig } from './config.js';
import type { RunningJob } from './engine-view.js';
import type { EngineEmitter } from './events.js';
import { type JobRunnerDeps, runJob } from './job-runner.js';
import type { Registry } from './registry.js';
import { requeueAll, scripts } from './scripts.js';
import { TickBatch } from './tick-batch.js';

export interface QueueRunnerDeps {
  /** The shared command connection (scripts defined on it). */
  redis: Redis;
  /** Opens this runner's own connection for BLMOVE (it owns and closes it). */
  openBlocking: () => Redis;
  keys: KeyLayout;
  config: WorkerConfig;
  logger: Logger;
  events: EngineEmitter;
  registry: Registry;
  nodeId: string;
}

interface Slot {
  index: number;
  raw: Buffer;
  startedAtMs: number;
  /** Set at a hard stop: the job was given back to its queue; its result is ignored. */
  abandoned: boolean;
}

/** The most jobs one fetch call moves (Verk caps at 100; a larger batch only helps big pools). */
const MAX_FETCH = 1000;

function delay(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let done!: () => void;
  const promise = new Promise<void>((resolve) => { done = resolve; timer = setTimeout(resolve, ms); });
  return { promise, cancel: () => { clearTimeout(timer); done(); } };
}

export class QueueRunner {
  readonly queueKey: string;
  readonly inProgressKey: string;
  private readonly slots = new Map<number, Slot>();
  private readonly freeIndexes: number[];
  private readonly batch: TickBatch;
  private readonly log: Logger;
  private readonly jobDeps: JobRunnerDeps;
  private blocking: Redis | undefined;
  private blockingId: number | undefined;
  private blockPending: Promise<void> | undefined;
  private woken = false;
  private wakeResolve: (() => void) | undefined;
  private paused = false;
  private pausedAnnounced = false;
  private stopping = false;
  private recovered = false;
  private backoffMs = 100;
  private backoffTimer: { promise: Promise<void>; cancel: () => void } | undefined;
  private supervisor: Promise<void> | undefined;
  /** One controller for every job of this runner: it only ever fires at a hard stop, for all of them. */
  private readonly abort = new AbortController();

  constructor(readonly name: string, readonly concurrency: number, private readonly deps: QueueRunnerDeps) {
    this.queueKey = deps.keys.queue(name);
    this.inProgressKey = deps.keys.inProgress(name, deps.nodeId);
    this.freeIndexes = Array.from({ length: concurrency }, (_, i) => concurrency - 1 - i);
    this.batch = new TickBatch(deps.keys, deps.config, name, this.inProgressKey);
    this.log = deps.logger.child({ queue: name });
    this.jobDeps = { registry: deps.registry, config: deps.config, logger: deps.logger, events: deps.events };
  }

  /** Starts the supervised loop (recovery of this node's in-progress list comes first). */
  start(): void {
    if (this.supervisor) return;
    this.blocking = this.deps.openBlocking();
    this.blocking.on('ready', () => {
      this.blocking?.client('ID').then((id) => { this.blockingId = Number(id); }, () => undefined);
    });
    this.deps.events.fire('queue:running', { queue: this.name });
    this.supervisor = this.supervise();
  }

  isPaused(): boolean {
    return this.paused;
  }

  /** Stops fetching; running jobs finish. Emits queue:pausing, then queue:paused when idle. */
  pause(): void {
    if (this.paused || this.stopping) return;
    this.paused = true;
    this.pausedAnnounced = false;
    this.deps.events.fire('queue:pausing', { queue: this.name });
    this.unblock();
    this.announcePaused();
    this.wake();
  }

  resume(): void {
    if (!this.paused || this.stopping) return;
    this.paused = false;
    this.deps.events.fire('queue:running', { queue: this.name });
    this.wake();
  }

  /** Jobs running now, for the heartbeat's work hash. */
  running(): RunningJob[] {
    return [...this.slots.values()].filter((s) => !s.abandoned).map((s) => ({
      slotId: `${this.name}-${s.index.toString(36)}`,
      queue: this.name,
      payload: s.raw.toString('utf8'),
      startedAtMs: s.startedAtMs,
    }));
  }

  busy(): number {
    return this.slots.size;
  }

  /**
   * Graceful stop: no more fetches, running jobs get until `deadline` (epoch ms) to finish,
   * then are aborted and given back; pending acks are written; in-progress ends empty.
   */
  async stop(deadline: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (!this.paused) this.deps.events.fire('queue:pausing', { queue: this.name });
    this.backoffTimer?.cancel();
    this.unblock();
    this.wake();
    await this.supervisor;
    await this.blockPending;

    while (this.slots.size > 0 && Date.now() < deadline) {
      const timer = delay(deadline - Date.now());
      await Promise.race([this.nextWake(), timer.promise]);
      timer.cancel();
    }
    if (this.slots.size > 0) {
      this.log.warn({ jobs: this.slots.size }, 'shutdown timeout: aborting running jobs and giving them back to the queue');
      for (const slot of this.slots.values()) slot.abandoned = true;
      const reason = new Error('worker shutting down: job aborted and requeued');
      reason.name = 'AbortError';
      this.abort.abort(reason);
      this.slots.clear();
    }
    const redis = this.deps.redis;
    if (this.batch.size > 0) {
      const pipe = redis.pipeline();
      scripts.ackAndFetch(pipe, this.queueKey, this.inProgressKey, 0, this.batch.writeTo(pipe));
      await this.execChecked(pipe, false);
    }
    const moved = await requeueAll(redis, this.inProgressKey, this.queueKey);
    if (moved > 0) this.log.info({ moved }, 'gave unfinished jobs back to the queue');
    this.blocking?.disconnect();
    this.blocking = undefined;
    this.deps.events.fire('queue:paused', { queue: this.name });
  }

  // ---- the loop ------------------------------------------------------------------------

  private async supervise(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.loop();
        return;
      } catch (err) {
        if (this.stopping) return;
        this.log.error({ err, retryInMs: this.backoffMs }, 'queue runner failed; restarting');
        this.backoffTimer = delay(this.backoffMs);
        await this.backoffTimer.promise;
        this.backoffTimer = undefined;
        this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
      }
    }
  }

  private async loop(): Promise<void> {
    const { redis } = this.deps;
    if (!this.recovered) {
      const moved = await requeueAll(redis, this.inProgressKey, this.queueKey);
      if (moved > 0) this.log.info({ moved, node: this.deps.nodeId }, 'recovered this node\'s in-progress jobs');
      this.recovered = true;
    }
    while (!this.stopping) {
      const free = this.concurrency - this.slots.size - (this.blockPending ? 1 : 0);
      const fetchN = !this.paused && this.deps.config.processing && free > 0 ? Math.min(free, MAX_FETCH) : 0;
      if (this.batch.size === 0 && fetchN === 0) {
        await this.nextWake();
        continue;
      }
      const pipe = redis.pipeline();
      const acks = this.batch.writeTo(pipe);
      // Last in the pipeline, after the failure writes and stats of this tick.
      scripts.ackAndFetch(pipe, this.queueKey, this.inProgressKey, fetchN, acks);
      const results = await this.execChecked(pipe, true);
      this.backoffMs = 100;
      const jobs = results[results.length - 1]![1] as Buffer[];
      if (this.stopping) return; // fetched jobs stay in in-progress; stop() gives them back
      for (const raw of jobs) this.dispatch(raw);
      if (jobs.length < fetchN) {
        if (!this.blockPending && this.deps.config.processing) this.blockingFetch();
        await this.nextWake();
      }
    }
  }

  /** Runs a pipeline; a failed fetch throws (the supervisor restarts), a failed write is logged. */
  private async execChecked(pipe: ReturnType<Redis['pipeline']>, lastIsFetch: boolean): Promise<Array<[Error | null, unknown]>> {
    const results = (await pipe.exec()) ?? [];
    results.forEach(([err], i) => {
      if (!err) return;
      if (lastIsFetch && i === results.length - 1) throw err;
      // The job stays in in-progress and comes back at the next start of this node.
      this.log.error({ err }, 'a write of this tick failed');
    });
    return results;
  }

  private dispatch(raw: Buffer): void {
    const index = this.freeIndexes.pop() ?? this.concurrency + this.slots.size;
    const slot: Slot = { index, raw, startedAtMs: Date.now(), abandoned: false };
    this.slots.set(index, slot);
    runJob(raw, this.name, this.abort.signal, this.jobDeps).then(
      (result) => {
        if (slot.abandoned) return;
        this.slots.delete(index);
        if (index < this.concurrency) this.freeIndexes.push(index);
        this.batch.add(raw, result);
        this.announcePaused();
        this.wake();
      },
      (err: unknown) => {
        // runJob does not throw; if it ever does, the job stays in in-progress for recovery.
        this.log.error({ err }, 'job runner failed unexpectedly; job left in progress');
        if (slot.abandoned) return;
        this.slots.delete(index);
        if (index < this.concurrency) this.freeIndexes.push(index);
        this.wake();
      },
    );
  }

  /** Waits in BLMOVE on the runner's own connection until a job arrives or the timeout passes. */
  private blockingFetch(): void {
    const conn = this.blocking;
    if (!conn) return;
    this.blockPending = (async () => {
      try {
        const raw = await conn.blmoveBuffer(this.queueKey, this.inProgressKey, 'RIGHT', 'LEFT', this.deps.config.blockTimeoutSeconds);
        if (raw && !this.stopping) this.dispatch(raw);
      } catch (err) {
        if (!this.stopping) {
          this.log.warn({ err }, 'blocking fetch failed');
          const t = delay(this.backoffMs);
          this.backoffTimer = t;
          await t.promise;
        }
      } finally {
        this.blockPending = undefined;
        this.wake();
      }
    })();
  }

  /** Ends a pending BLMOVE at once (as a timeout), from the command connection. */
  private unblock(): void {
    if (this.blockPending && this.blockingId !== undefined) {
      this.deps.redis.client('UNBLOCK', this.blockingId, 'TIMEOUT').catch(() => undefined);
    }
  }

  private announcePaused(): void {
    if (this.paused && !this.pausedAnnounced && !this.stopping && this.slots.size === 0) {
      this.pausedAnnounced = true;
      this.deps.events.fire('queue:paused', { queue: this.name });
    }
  }

  private wake(): void {
    this.woken = true;
    const r = this.wakeResolve;
    this.wakeResolve = undefined;
    r?.();
  }

  /** Resolves at the next wake (or at once if one happened), after other finishing jobs joined in. */
  private async nextWake(): Promise<void> {
    if (!this.woken) await new Promise<void>((resolve) => { this.wakeResolve = resolve; });
    this.woken = false;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
