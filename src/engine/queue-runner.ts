/**
 * One queue's runner (Verk's QueueManager + WorkersManager): reliable fetch into
 * `inprogress:<q>:<node>`, bounded concurrency, batched acks, supervision, pause and stop.
 *
 * Guarantees:
 * - a job is always in `queue:<q>`, in this node's in-progress list, or in retry/dead; it is
 *   removed from in-progress only after its handler settled (ack = LREM of the exact bytes);
 * - each tick is one script call that acks the finished jobs, adds their stat counts and
 *   fetches the next batch (preceded, in the same pipeline, by the rare failure writes); an
 *   idle runner blocks in BLMOVE instead of polling;
 * - a job is moved into in-progress only when a slot can start it: a fetch asks for at most
 *   the free slots (less one per BLMOVE in flight), so every job a co-consumer (Sidekiq, Verk, another
 *   node) could run stays in `queue:<q>`, counted by their stats (issue 16). `prefetch: N`
 *   (opt-in, default 0) lets up to N more be fetched ahead; those start as slots free up, also
 *   while pausing (they were fetched before the pause), and a stop gives them back unrun;
 * - ticks overlap the work: when a batch arrives, the next tick (the acks of jobs finished
 *   meanwhile, and a fetch for any slot still free) is sent before the batch runs;
 * - `queue:paused` is announced only when nothing runs, nothing waits in the prefetch buffer
 *   and no fetch (tick or BLMOVE) is in flight: from then on nothing is fetched until resume;
 * - on start, the node's own in-progress list is given back to the queue first (Verk);
 * - a fetch whose reply was lost strands its jobs in in-progress: after a fetch error, a
 *   reconnect and every heartbeat, the entries nothing here holds are given back (the audit,
 *   in-progress-audit.ts, which also says why ioredis's resend of lost commands stays on);
 * - if the loop throws (Redis down, a script error) it restarts with backoff; other queues
 *   are separate runners and go on;
 * - stop() lets running jobs finish until the deadline, then aborts them and gives every
 *   unfinished job back to the consuming end of the queue, bytes unchanged; hurry() (a forced
 *   stop) moves the deadline to now.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { delay } from '../support/delay.js';
import { type KeyLayout, type ListEnd, dialectFor } from '../wire/index.js';
import type { WorkerConfig } from './config.js';
import type { RunningJob } from './engine-view.js';
import type { EngineEmitter } from './events.js';
import { InProgressAudit } from './in-progress-audit.js';
import { type JobRunnerDeps, runJob } from './job-runner.js';
import type { Registry } from './registry.js';
import { requeueAll, scripts } from './scripts.js';
import { DAILY_STAT_TTL, TickBatch } from './tick-batch.js';
import type { ResqueRegistry } from './resque-registry.js';
import type { ConsumerTracing } from '../tracing/consumer-tracing.js';
import type { JobObserver } from './job-observer.js';

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
  /** A peer whose registry is Resque's (`processRegistry.kind` resque-workers): this worker's entry (running jobs, per-worker stats). */
  resque?: ResqueRegistry | undefined;
  /** [metrics] told the size of each fetch reply (a tick's batch, or 1 for a BLMOVE); absent when metrics are off. */
  onFetch?: ((queue: string, jobs: number) => void) | undefined;
  /** [tracing] the consumer spans; absent when tracing is off. */
  tracing?: ConsumerTracing | undefined;
  /** [metrics] told each job's end; absent when nothing counts jobs. */
  observer?: JobObserver | undefined;
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

const NO_JOBS: Buffer[] = [];

export class QueueRunner {
  readonly queueKey: string;
  readonly inProgressKey: string;
  private readonly slots = new Map<number, Slot>();
  private readonly freeIndexes: number[];
  /** Jobs fetched into in-progress ahead of a free slot, oldest first. */
  private readonly prefetched: Buffer[] = [];
  /** Running plus prefetched jobs this runner may hold: concurrency + the `prefetch` option (default 0). */
  private readonly window: number;
  private tickPending: Promise<Buffer[]> | undefined;
  /** Jobs the pending tick asked for (fewer back means the queue is empty). */
  private requested = 0;
  private readonly statKeys: { processed: string; processedQueue: string };
  private processedDayKey = '';
  private processedDay = '';
  private readonly batch: TickBatch;
  private readonly log: Logger;
  private readonly jobDeps: JobRunnerDeps;
  private readonly audit: InProgressAudit;
  private blocking: Redis | undefined;
  private blockingId: number | undefined;
  private blockPending: Promise<void> | undefined;
  private woken = false;
  /** The loop waits in nextWake(): a tick sent from finished() is then the one it awaits next. */
  private parked = false;
  private wakeResolve: (() => void) | undefined;
  private paused = false;
  private pausedAnnounced = false;
  private stopping = false;
  /** When running jobs are aborted at a stop: the shutdown deadline, or at once after hurry(). */
  private stopDeadline: { at: number; why: 'shutdown timeout' | 'forced stop' } = { at: Infinity, why: 'shutdown timeout' };
  private recovered = false;
  private backoffMs = 100;
  private backoffTimer: { promise: Promise<void>; cancel: () => void } | undefined;
  private supervisor: Promise<void> | undefined;
  /** One controller for every job of this runner: it only ever fires at a hard stop, for all of them. */
  private readonly abort = new AbortController();
  /** The consuming end of the queue (Resque's is the head), for fetches and give-backs. */
  private readonly end: ListEnd;
  /** TTL of the second processed counter: Sidekiq's daily key; 0 for Resque's per-worker one. */
  private readonly dayTtl: number;

  constructor(readonly name: string, readonly concurrency: number, private readonly deps: QueueRunnerDeps) {
    this.queueKey = deps.keys.queue(name);
    this.inProgressKey = deps.keys.inProgress(name, deps.nodeId);
    this.freeIndexes = Array.from({ length: concurrency }, (_, i) => concurrency - 1 - i);
    this.window = concurrency + deps.config.prefetch;
    this.statKeys = { processed: deps.keys.stat('processed'), processedQueue: deps.keys.stat('processed', name) };
    this.end = dialectFor(deps.config.peer).queueEnds.pop;
    this.dayTtl = deps.resque ? 0 : DAILY_STAT_TTL;
    this.batch = new TickBatch(deps.keys, deps.config, name, this.inProgressKey, deps.resque?.id);
    this.log = deps.logger.child({ queue: name });
    this.jobDeps = { registry: deps.registry, config: deps.config, logger: deps.logger, events: deps.events, ...(deps.resque ? { tracker: deps.resque, workerId: deps.resque.id } : {}), ...(deps.tracing ? { tracing: deps.tracing } : {}), ...(deps.observer ? { observer: deps.observer } : {}) };
    this.audit = new InProgressAudit(deps.redis, this.inProgressKey, this.queueKey, this.log, () => this.wake(), this.end);
  }

  /** Starts the supervised loop (recovery of this node's in-progress list comes first). */
  start(): void {
    if (this.supervisor) return;
    this.blocking = this.deps.openBlocking();
    this.blocking.on('ready', () => {
      this.blocking?.client('ID').then((id) => { this.blockingId = Number(id); }, () => undefined);
    });
    this.audit.start(this.deps.config.heartbeatMs, [this.deps.redis, this.blocking]);
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

  /** Closes the blocking connection, ending a BLMOVE that Redis will not answer (stop's last resort). */
  abandonRedis(): void {
    this.blocking?.disconnect();
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
    if (deadline < this.stopDeadline.at) this.stopDeadline = { at: deadline, why: 'shutdown timeout' };
    this.audit.stop(); // from here stop() gives back the whole list
    if (!this.paused) this.deps.events.fire('queue:pausing', { queue: this.name });
    this.backoffTimer?.cancel();
    this.unblock();
    this.wake();
    await this.supervisor;
    await this.blockPending;

    while (this.slots.size > 0 && Date.now() < this.stopDeadline.at) {
      const timer = delay(this.stopDeadline.at - Date.now());
      await Promise.race([this.nextWake(), timer.promise]);
      timer.cancel();
    }
    if (this.slots.size > 0) {
      this.log.warn({ jobs: this.slots.size }, `${this.stopDeadline.why}: aborting running jobs and giving them back to the queue`);
      for (const slot of this.slots.values()) slot.abandoned = true;
      const reason = new Error('worker shutting down: job aborted and requeued');
      reason.name = 'AbortError';
      this.abort.abort(reason);
      this.slots.clear();
    }
    this.prefetched.length = 0; // never started: requeueAll below gives them back
    const redis = this.deps.redis;
    if (this.batch.size > 0) {
      try {
        await this.tick(redis, 0);
      } catch (err) {
        // Those jobs are still in in-progress, so requeueAll below gives them back with the rest.
        this.log.error({ err }, 'the last acks failed: those finished jobs are still in this node\'s in-progress list and go back to the queue with the unfinished ones, so they run again');
      }
    }
    try {
      const moved = await requeueAll(redis, this.inProgressKey, this.queueKey, 1000, this.end);
      if (moved > 0) this.log.info({ moved }, 'gave unfinished jobs back to the queue');
    } catch (err) {
      this.log.error({ err }, 'could not give unfinished jobs back to the queue; they stay in this node\'s in-progress list until its next start or a peer\'s recovery');
    }
    this.blocking?.disconnect();
    this.blocking = undefined;
    this.deps.events.fire('queue:paused', { queue: this.name });
  }

  /**
   * A forced stop: running jobs are aborted and given back now instead of at the shutdown
   * deadline (also when stop() has not been called yet: its deadline is then already past).
   */
  hurry(): void {
    this.stopDeadline = { at: Date.now(), why: 'forced stop' };
    this.wake();
  }

  // ---- the loop ------------------------------------------------------------------------

  private async supervise(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.loop();
        return;
      } catch (err) {
        if (this.stopping) return;
        this.audit.due = true; // the failed call may have fetched (its reply lost)
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
      const moved = await requeueAll(redis, this.inProgressKey, this.queueKey, 1000, this.end);
      if (moved > 0) this.log.info({ moved, node: this.deps.nodeId }, 'recovered this node\'s in-progress jobs');
      this.recovered = true;
    }
    while (!this.stopping) {
      // An ioredis resend is the same pending promise: a fetch counts as in flight until it settles.
      if (this.audit.due && !this.tickPending && !this.blockPending) await this.audit.reconcile(() => [...this.slots.values()].map((s) => s.raw).concat(this.prefetched));
      if (!this.tickPending && !this.sendTick(0)) {
        await this.nextWake();
        continue;
      }
      const asked = this.requested;
      let jobs: Buffer[];
      try {
        jobs = await this.tickPending!;
      } finally {
        this.tickPending = undefined;
        this.requested = 0;
      }
      this.backoffMs = 100;
      if (asked > 0) this.deps.onFetch?.(this.name, jobs.length);
      if (this.stopping) return; // fetched jobs stay in in-progress; stop() gives them back
      const drained = jobs.length < asked;
      // The next tick goes out before this batch runs: Redis acks and fetches meanwhile (unless
      // an audit is due: it needs a moment with no fetch in flight, at the top of the loop).
      if (!drained && !(this.audit.due && !this.blockPending)) this.sendTick(jobs.length);
      for (let i = 0; i < jobs.length; i++) this.startOrPrefetch(jobs[i]!);
      if (drained && !this.blockPending) this.blockingFetch();
      this.announcePaused();
      if (drained) await this.nextWake();
    }
    // A tick finished() sent while the loop was parked: settle it here (its jobs stay in
    // in-progress; stop() gives them back after it, on the same connection).
    const pending = this.tickPending;
    if (pending) {
      try {
        await pending;
      } catch {
        // Its acks are kept by the audit as unsure; stop() gives the unfinished jobs back anyway.
      } finally {
        this.tickPending = undefined;
        this.requested = 0;
      }
    }
  }

  private canFetch(): boolean {
    return !this.paused && !this.stopping && this.deps.config.processing;
  }

  /**
   * Sends a tick when there is something to ack or room to fetch (`incoming` jobs just arrived
   * and are not counted yet). Returns false when there was nothing to send.
   */
  private sendTick(incoming: number): boolean {
    const room = this.canFetch()
      ? this.window - this.slots.size - this.prefetched.length - incoming - (this.blockPending ? 1 : 0)
      : 0;
    const max = room > 0 ? Math.min(room, MAX_FETCH) : 0;
    if (max === 0 && this.batch.size === 0) return false;
    this.requested = max;
    this.tickPending = this.tick(this.deps.redis, max);
    return true;
  }

  /** One round trip: the failure writes if any, then acks + counts + fetch in one script call. */
  private tick(redis: Redis, max: number): Promise<Buffer[]> {
    const batch = this.batch;
    if (!batch.hasFailures) return this.audit.carriedBy(scripts.ackAndFetch(redis, this.ackKeys(), { max, dayTtl: this.dayTtl, end: this.end, ...batch.takeAcks() }));
    const pipe = redis.pipeline();
    batch.writeFailures(pipe);
    scripts.ackAndFetch(pipe, this.ackKeys(), { max, dayTtl: this.dayTtl, end: this.end, ...batch.takeAcks() });
    return this.audit.carriedBy(this.execChecked(pipe).then((results) => (results[results.length - 1]![1] as Buffer[] | null) ?? NO_JOBS));
  }

  private ackKeys(): { queue: string; inProgress: string; processed: string; processedDay: string; processedQueue: string } {
    // With Resque's registry: its per-worker `stat:processed:<id>` instead of Sidekiq's daily key.
    const day = this.deps.resque ? this.deps.resque.id : this.batch.today();
    if (day !== this.processedDay) {
      this.processedDay = day;
      this.processedDayKey = this.deps.keys.stat('processed', day);
    }
    return { queue: this.queueKey, inProgress: this.inProgressKey, processedDay: this.processedDayKey, ...this.statKeys };
  }

  /** Runs a pipeline; a failed fetch (the last command) throws (the supervisor restarts), a failed write is logged. */
  private async execChecked(pipe: ReturnType<Redis['pipeline']>): Promise<Array<[Error | null, unknown]>> {
    const results = (await pipe.exec()) ?? [];
    results.forEach(([err], i) => {
      if (!err) return;
      if (i === results.length - 1) throw err;
      // The job stays in in-progress, held by nothing: the next audit gives it back to the queue.
      this.log.error({ err }, 'a write of this tick failed');
    });
    return results;
  }

  private startOrPrefetch(raw: Buffer): void {
    if (this.slots.size < this.concurrency) this.dispatch(raw);
    else this.prefetched.push(raw);
  }

  private dispatch(raw: Buffer): void {
    const index = this.freeIndexes.pop() ?? this.concurrency + this.slots.size;
    const slot: Slot = { index, raw, startedAtMs: Date.now(), abandoned: false };
    this.slots.set(index, slot);
    runJob(raw, this.name, this.abort.signal, this.jobDeps).then(
      (result) => {
        if (slot.abandoned) return;
        // Only an aborted job gives this, and an abort marks every slot abandoned first; were it
        // ever not, the job stays in in-progress, held by nothing, and the audit gives it back.
        if (result.kind === 'given-back') return this.finished(index);
        this.batch.add(raw, result);
        this.audit.finished(raw, result.kind === 'ack');
        this.finished(index);
      },
      (err: unknown) => {
        // runJob does not throw; if it ever does, the job stays in in-progress and the audit gives it back.
        this.log.error({ err }, 'job runner failed unexpectedly; job left in progress');
        if (slot.abandoned) return;
        this.finished(index);
      },
    );
  }

  /** Frees a slot; the oldest prefetched job takes it (not once stopping: stop gives those back). */
  private finished(index: number): void {
    this.slots.delete(index);
    if (index < this.concurrency) this.freeIndexes.push(index);
    if (this.prefetched.length > 0 && !this.stopping) this.dispatch(this.prefetched.shift()!);
    // Half the slots free and the loop parked: fetch for them now, while the other half still
    // runs, so Redis works while Node does. Without prefetch, waiting for the whole batch to
    // finish (setImmediate in nextWake) serialized the two (~10% of the c50 drain, ~15% at c1).
    else if (this.parked && !this.tickPending && this.slots.size * 2 <= this.concurrency && !this.audit.due && this.canFetch()) this.sendTick(0);
    this.announcePaused();
    this.wake();
  }

  /** Waits in BLMOVE on the runner's own connection until a job arrives or the timeout passes. */
  private blockingFetch(): void {
    const conn = this.blocking;
    if (!conn || !this.canFetch()) return;
    this.blockPending = (async () => {
      try {
        // pause() ends a pending BLMOVE by this connection's id: know it before blocking.
        if (this.blockingId === undefined) this.blockingId = Number(await conn.client('ID'));
        if (!this.canFetch()) return;
        const wait = this.deps.config.blockTimeoutSeconds;
        const raw = this.end === 'head' // a runtime whose workers pop the head (Resque's LPOP)
          ? await conn.blmoveBuffer(this.queueKey, this.inProgressKey, 'LEFT', 'LEFT', wait)
          : await conn.blmoveBuffer(this.queueKey, this.inProgressKey, 'RIGHT', 'LEFT', wait);
        // A job BLMOVE delivered just as a pause began is in in-progress already: it runs, and
        // queue:paused waits for it (announcePaused), so after that event nothing is fetched.
        if (raw) this.deps.onFetch?.(this.name, 1);
        if (raw && !this.stopping) this.startOrPrefetch(raw);
      } catch (err) {
        if (!this.stopping) {
          this.audit.due = true; // BLMOVE may have moved a job whose reply was lost
          this.log.warn({ err }, 'blocking fetch failed');
          const t = delay(this.backoffMs);
          this.backoffTimer = t;
          await t.promise;
        }
      } finally {
        this.blockPending = undefined;
        this.announcePaused();
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
    if (this.paused && !this.pausedAnnounced && !this.stopping && this.slots.size === 0
      && this.prefetched.length === 0 && !this.tickPending && !this.blockPending) {
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
    if (!this.woken) {
      this.parked = true;
      await new Promise<void>((resolve) => { this.wakeResolve = resolve; });
      this.parked = false;
    }
    this.woken = false;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
