/**
 * The Worker: wires the engine's parts together and owns their lifecycle. It holds no job
 * logic itself (that reads top to bottom in queue-runner → job-runner → tick-batch).
 *
 *   one QueueRunner per queue   reliable batch fetch, bounded concurrency, batched acks
 *   Scheduler                   schedule/retry → queues, compare and move
 *   SidekiqHeartbeat            `processes` / `<identity>` so Sidekiq's API and Web UI see us
 *   VerkNodes                   `verk_nodes` heartbeat and dead-node recovery (generated ids)
 *
 * It is also the {@link EngineView} those services see. start() → stop() leaves no timer,
 * connection or in-progress job behind.
 *
 * The application's own lifecycle hooks ({@link WorkerHooks}) run around it: `startup` once
 * Redis answers and the node id is claimed, before anything is fetched; `shutdown` once the
 * worker is done with Redis (jobs finished or given back, process deregistered, node id
 * released, its connections closed), just before stop() resolves.
 */
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { KeyLayout, type Peer, dialectFor } from '../wire/index.js';
import { closeConnection, openRedis } from '../support/connection.js';
import { explainThrown } from '../support/describe-error.js';
import { deadline as deadlineTimer } from '../support/delay.js';
import { redactText, redactUrl } from '../support/redact.js';
import { type WorkerConfig, type WorkerOptions, DEFAULT_NODE_ID, REDIS_GRACE_MS, checkConcurrency, queueName, resolveConfig } from './config.js';
import type { EngineService, EngineView, RunningJob } from './engine-view.js';
import { AppHooks, type WorkerHooks } from './app-hooks.js';
import { awaitRedis } from './await-redis.js';
import { EngineEmitter } from './events.js';
import { NodeClaim } from './node-claim.js';
import { NodeIdHeldByPeerError, findPeerNodeHolder, warnOfLegacyInProgress } from './peer-node-ids.js';
import { processIdentity } from './process-identity.js';
import { QueueRunner } from './queue-runner.js';
import { Registry } from './registry.js';
import { Scheduler } from './scheduler.js';
import { defineScripts, requeueAll } from './scripts.js';
import { SidekiqHeartbeat } from './sidekiq-heartbeat.js';
import { VerkNodes } from './verk-nodes.js';
import { ResqueRegistry } from './resque-registry.js';
import { SidekiqExecutionMetrics } from './sidekiq-metrics.js';
import { type JobObserver, combineObservers } from './job-observer.js';
import { WorkerMetrics } from '../metrics/worker-metrics.js';
import { MetricsServer } from '../metrics/metrics-server.js';
import { ConsumerTracing } from '../tracing/consumer-tracing.js';
import { loadOtel } from '../tracing/otel.js';

/**
 * idle → running (start) → stopping (stop: jobs get until the shutdown deadline) → stopped;
 * `forcing` is stopping after stop({ force: true }): running jobs are aborted and given back now.
 */
type State = 'idle' | 'running' | 'stopping' | 'forcing' | 'stopped';

/** How stop() treats running jobs. */
export interface StopOptions {
  /**
   * Abort running jobs now (their AbortSignal fires) and give them back to their queues, as at
   * the shutdown timeout; also cuts short the wait for an unresponsive Redis and for the
   * shutdown hook. May be passed to a stop that is already under way (a second Ctrl-C).
   */
  force?: boolean;
}


export class Worker extends EngineEmitter implements EngineView {
  readonly config: WorkerConfig;
  readonly registry: Registry;
  readonly nodeId: string;
  readonly identity: string;
  readonly keys: KeyLayout;
  readonly logger: Logger;
  readonly peer: Peer;
  private readonly queueSizes: Map<string, number>;
  private readonly runners = new Map<string, QueueRunner>();
  private redis: Redis | undefined;
  private ownsRedis = false;
  private scheduler: Scheduler | undefined;
  private services: EngineService[] = [];
  private claim: NodeClaim | undefined;
  private verkNodes: VerkNodes | undefined;
  /** A peer whose registry is Resque's: this worker's entry in it. */
  private resque: ResqueRegistry | undefined;
  private state: State = 'idle';
  private quieted = false;
  /** [metrics] counted only with a `metricsPort` (src/metrics); served from start to stop. */
  private readonly metrics: WorkerMetrics | undefined;
  private metricsServer: MetricsServer | undefined;
  /** [tracing] consumer spans, with the `tracing` option (src/tracing). */
  private consumerTracing: ConsumerTracing | undefined;
  /** Sidekiq's execution metrics (peer sidekiq7/8 unless turned off); a service once started. */
  private executionMetrics: SidekiqExecutionMetrics | undefined;
  /** [metrics] what is told each job's end: the two above, combined; undefined when neither. */
  private jobObserver: JobObserver | undefined;
  private readonly hooks: AppHooks;
  private stopPromise: Promise<void> | undefined;
  /** Shortens stop()'s wait for Redis when the stop is forced (set while stopping). */
  private giveUp: ReturnType<typeof deadlineTimer> | undefined;
  private stopRequestedResolve!: () => void;
  /** Resolves as soon as stop() is called: start() stops waiting and starts nothing more. */
  private readonly stopRequested: Promise<void> = new Promise((resolve) => { this.stopRequestedResolve = resolve; });
  private forcedResolve!: () => void;
  /** Resolves when the stop is forced: the shutdown hook is no longer waited for. */
  private readonly forced: Promise<void> = new Promise((resolve) => { this.forcedResolve = resolve; });
  private stoppedResolve!: () => void;
  /** Resolves once stop() has finished (whoever started it: API, signal, Sidekiq's TERM). */
  readonly stopped: Promise<void> = new Promise((resolve) => { this.stoppedResolve = resolve; });

  /**
   * @param options the API layer of the configuration, and the lifecycle hooks.
   * @param config an already resolved configuration (the CLI passes file/env/flags merged in);
   *   when omitted, `options` alone are used, with the defaults.
   */
  constructor(options: WorkerOptions & WorkerHooks = {}, config?: WorkerConfig) {
    const { startup, shutdown, ...rest } = options;
    const cfg = config ?? resolveConfig({ api: rest });
    const logger = options.logger ?? pino({ level: cfg.logLevel, base: { pid: process.pid } });
    super(logger);
    this.config = cfg;
    this.registry = new Registry(options.handlers);
    this.logger = logger;
    this.nodeId = cfg.nodeId;
    this.identity = processIdentity();
    this.keys = new KeyLayout(cfg.namespace);
    this.peer = cfg.peer;
    this.queueSizes = new Map(cfg.queues);
    this.hooks = new AppHooks({ startup, shutdown }, logger, this.forced);
    this.metrics = cfg.metricsPort === undefined ? undefined : new WorkerMetrics({
      keys: this.keys, nodeId: this.nodeId, popEnd: dialectFor(this.peer).queueEnds.pop,
      heartbeatKey: cfg.sidekiqHeartbeat ? this.keys.process(this.identity) : undefined,
      queues: () => this.queues(),
      runningByQueue: () => new Map([...this.runners].map(([q, r]) => [q, r.busy()])),
      hasHandler: (className) => this.registry.get(className) !== undefined,
    });
  }

  /** Where `/metrics` is served (with a `metricsPort`, once started). */
  metricsAddress(): { host: string; port: number } | undefined {
    const a = this.metricsServer?.address();
    return a ? { host: a.address, port: a.port } : undefined;
  }

  /** [metrics] [tracing] What runs beside the jobs; before the first fetch. Throws when a port or the API cannot be had. */
  private async startObservability(redis: Redis): Promise<void> {
    if (this.config.tracing) this.consumerTracing = new ConsumerTracing(await loadOtel(), dialectFor(this.peer).tracing.system, this.config.tracing);
    const execution = dialectFor(this.peer).executionMetrics;
    if (this.config.sidekiqMetrics && this.config.processing && execution) {
      // Flushed every Sidekiq beat, as Sidekiq's own tracker (`config.on(:beat)`).
      this.executionMetrics = new SidekiqExecutionMetrics(redis, this.keys, execution, dialectFor(this.peer).traits.beatSeconds * 1000, this.logger.child({ service: 'sidekiq-metrics' }));
    }
    this.jobObserver = combineObservers([this.metrics, this.executionMetrics].filter((o): o is WorkerMetrics | SidekiqExecutionMetrics => o !== undefined));
    if (!this.metrics) return;
    const server = new MetricsServer(this.metrics, { port: this.config.metricsPort!, host: this.config.metricsHost, redis, logger: this.logger });
    const at = await server.start();
    this.metricsServer = server;
    this.logger.info({ host: at.address, port: at.port }, 'serving Prometheus metrics on /metrics');
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /**
   * Connects, claims the node id, recovers this node's in-progress jobs and starts fetching.
   * Rejects when Redis refuses the login or does not answer within `connectTimeoutMs`; resolves
   * without starting anything when stop() was called before it finished.
   */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`worker cannot start: it is ${this.state}`);
    this.state = 'running';
    const { redis, owned } = openRedis(this.config.redis);
    this.redis = redis;
    this.ownsRedis = owned;
    redis.on('error', (err: Error) => this.logger.warn({ err: redactText(err.message) }, 'redis connection error'));
    try {
      const where = typeof this.config.redis === 'string' ? redactUrl(this.config.redis) : 'the configured Redis';
      await this.unlessStopped(awaitRedis(redis, where, this.config.connectTimeoutMs));
    } catch (err) {
      if (this.state === 'running') this.abortStart(err);
      // else stop() was called while Redis was awaited: it owns the cleanup; start() just returns.
    }
    if (this.stopCalled()) return;
    defineScripts(redis);
    if (this.config.processing && !this.config.generateNodeId) {
      // Before any runner recovers "its" in-progress lists: they must not be another process's.
      const claim = new NodeClaim(redis, this.keys, this.nodeId, this.identity, this.config.heartbeatMs, this.logger);
      try {
        // Nor a live Verk or Exq node's (issue 16): their running jobs would run twice.
        const peer = await findPeerNodeHolder(redis, this.keys, this.nodeId);
        if (peer) throw new NodeIdHeldByPeerError(this.nodeId, peer);
        await claim.start();
      } catch (err) {
        if (this.state === 'running') this.abortStart(err); // else stop() is under way and cleans up
      }
      if (this.stopCalled()) {
        // Ends the claim's heartbeat; its release may fail on the connection stop() closed, and
        // the claim then lapses within two heartbeats.
        void claim.stop().catch(() => undefined);
        return;
      }
      this.claim = claim;
      if (this.nodeId === DEFAULT_NODE_ID) {
        await this.unlessStopped(warnOfLegacyInProgress(redis, this.keys, [...this.queueSizes.keys()], this.logger));
        if (this.stopCalled()) return; // stop() releases the claim
      }
    }
    try {
      await this.startObservability(redis);
    } catch (err) {
      if (this.state === 'running') {
        await this.metricsServer?.stop();
        await this.claim?.stop().catch(() => undefined);
        this.claim = undefined;
        this.abortStart(err);
      }
    }
    if (this.stopCalled()) return;
    const failed = await this.hooks.start();
    if (failed && this.state !== 'running') throw failed; // stop() under way: it cleans up
    if (failed) {
      await this.claim?.stop().catch(() => undefined);
      this.claim = undefined;
      this.abortStart(failed);
    }
    if (this.stopCalled()) return; // stop() releases the claim and runs the shutdown hook
    this.logger.info({
      redis: typeof this.config.redis === 'string' ? redactUrl(this.config.redis) : this.config.redis ? 'options' : 'default',
      queues: Object.fromEntries(this.queueSizes), nodeId: this.nodeId, identity: this.identity,
      processing: this.config.processing, peer: this.peer, namespace: this.config.namespace,
    }, 'worker starting');

    if (dialectFor(this.peer).processRegistry.kind === 'resque-workers') {
      // Registered before the first job, as a Resque worker is (resque-registry.ts).
      const reg = new ResqueRegistry(redis, this.keys, [...this.queueSizes.keys()], this.config.resqueHeartbeatMs, this.logger.child({ service: 'resque-registry' }));
      try {
        await reg.start();
      } catch (err) {
        this.logger.error({ err: explainThrown(err) }, 'could not register in Resque\'s worker registry; jobs run anyway');
      }
      this.resque = reg;
      // A stop() that came while registering found no registry to unregister: do it here.
      if (this.stopCalled()) {
        await reg.stop().catch(() => undefined);
        return;
      }
    }
    if (this.config.processing) for (const [q, n] of this.queueSizes) this.startRunner(q, n);
    this.scheduler = new Scheduler(redis, this.keys, this.config, this.logger.child({ service: 'scheduler' }));
    this.scheduler.start();

    if (this.config.sidekiqHeartbeat) this.services.push(new SidekiqHeartbeat(redis, this));
    if (this.executionMetrics) this.services.push(this.executionMetrics);
    if (this.config.generateNodeId) {
      this.verkNodes = new VerkNodes(redis, this, { heartbeatMs: this.config.heartbeatMs });
      this.services.push(this.verkNodes);
    }
    for (const s of this.services) {
      if (this.stopCalled()) return; // stop() stopped the services started so far
      await s.start();
      // stop() came while this one started: it found it not yet running, so stop it here.
      if (this.state !== 'running') await s.stop().catch((err: unknown) => this.logger.warn({ err: explainThrown(err) }, 'a service failed to stop'));
    }
    if (this.stopCalled()) return;
    this.logger.info('worker started');
  }

  /**
   * Whether stop() was called while start() waited for Redis: stop() has closed what existed
   * then, so start() must start nothing more (no runner would ever be stopped) and resolves.
   */
  private stopCalled(): boolean {
    if (this.state === 'running') return false;
    this.logger.info('stopped before the start completed: nothing started');
    return true;
  }

  /**
   * `work`'s result, or nothing as soon as stop() is called: start() must not keep waiting on a
   * Redis that stop() gave up on (a command queued on a closed ioredis connection may never
   * settle, redis/ioredis#2169). A rejection of the abandoned `work` is not left unhandled.
   */
  private async unlessStopped<T>(work: Promise<T>): Promise<T | undefined> {
    work.catch(() => undefined);
    return Promise.race([work, this.stopRequested.then(() => undefined)]);
  }

  /** A start that failed before anything ran: the connection goes, the worker is stopped. */
  private abortStart(err: unknown): never {
    if (this.ownsRedis) this.redis?.disconnect();
    this.redis = undefined;
    this.state = 'stopped';
    this.stoppedResolve();
    throw err;
  }

  /**
   * Stops the worker (idempotent): see QueueRunner.stop for what happens to running jobs, and
   * {@link StopOptions.force} for a forced stop, which may follow a graceful one.
   */
  stop(options: StopOptions = {}): Promise<void> {
    this.stopPromise ??= this.doStop();
    if (options.force) this.force();
    return this.stopPromise;
  }

  /** Turns a stop under way into a forced one: running jobs are aborted and given back now. */
  private force(): void {
    if (this.state !== 'stopping') return; // already forced, stopped, or stopped before it started
    this.state = 'forcing';
    this.logger.warn({ running: this.running().length }, 'forced stop: aborting running jobs and giving them back to their queues');
    for (const r of this.runners.values()) r.hurry();
    this.giveUp?.bringForward(REDIS_GRACE_MS);
    this.forcedResolve();
  }

  private async doStop(): Promise<void> {
    this.stopRequestedResolve();
    if (this.state === 'stopped') return; // a start that failed has cleaned up already
    if (this.state === 'idle') {
      this.state = 'stopped';
      this.stoppedResolve();
      return;
    }
    this.state = 'stopping';
    this.logger.info({ timeoutMs: this.config.shutdownTimeoutMs }, 'worker stopping');
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    const giveUp = deadlineTimer(this.config.shutdownTimeoutMs + REDIS_GRACE_MS);
    this.giveUp = giveUp;
    const outcome = await Promise.race([
      this.stopParts(deadline).then(() => 'stopped' as const),
      giveUp.promise.then(() => 'gave up' as const),
    ]);
    giveUp.cancel();
    this.giveUp = undefined;
    if (outcome === 'gave up') this.abandonRedis();
    this.claim = undefined;
    this.services = [];
    this.runners.clear();
    if (this.redis && this.ownsRedis) await closeConnection(this.redis);
    this.redis = undefined;
    try {
      await this.hooks.finish();
    } finally {
      this.state = 'stopped';
      this.logger.info('worker stopped');
      this.stoppedResolve();
    }
  }

  /** The scheduler, the runners (jobs finish by `deadline`), the services, then the node id claim. */
  private async stopParts(deadline: number): Promise<void> {
    try {
      await this.scheduler?.stop();
      await Promise.all([...this.runners.values()].map((r) => r.stop(deadline)));
    } catch (err) {
      this.logger.error({ err }, 'a queue runner failed to stop');
    }
    // Resque's unregister, once no job runs (its per-worker stats go with it, as Resque's do).
    await this.resque?.stop().catch((err: unknown) => this.logger.warn({ err: explainThrown(err) }, 'could not unregister from Resque\'s worker registry'));
    // Services last: VerkNodes gives back our (now empty) in-progress lists and deregisters.
    for (const s of [...this.services].reverse()) {
      try {
        await s.stop();
      } catch (err) {
        this.logger.error({ err }, 'a service failed to stop');
      }
    }
    // Last: the in-progress lists are empty now, the id is free for the next process.
    await this.claim?.stop().catch((err: unknown) => this.logger.warn({ err }, 'could not release the node id claim'));
    await this.metricsServer?.stop();
  }

  /**
   * stop()'s way out when Redis has not answered by the shutdown deadline plus REDIS_GRACE_MS
   * (it is down, or hangs): stop() stops waiting for it and closes the connections this worker
   * opened. (Closing alone is not enough: ioredis 5 leaves the commands queued while it waits to
   * reconnect pending forever, redis/ioredis#2169.) Nothing is lost: acks not written and jobs
   * not given back stay in this node's in-progress lists, which the next start with this node
   * id (or, with generated ids, a peer's dead-node recovery) gives back; those jobs run again.
   */
  private abandonRedis(): void {
    this.logger.error({ graceMs: REDIS_GRACE_MS }, 'Redis did not answer during shutdown: closing the connections; unwritten acks and unfinished jobs stay in this node\'s in-progress lists and run again after recovery');
    for (const runner of this.runners.values()) runner.abandonRedis();
    if (this.ownsRedis) this.redis?.disconnect();
  }

  // ---- queues ----------------------------------------------------------------------------

  /** Starts consuming a queue (Verk: the new queue recovers its in-progress list first). */
  addQueue(name: string, concurrency: number): void {
    queueName(name, 'addQueue'); // the one queue-name rule and concurrency range of every layer
    checkConcurrency(concurrency, `queues.${name}`, 'addQueue');
    if (this.queueSizes.has(name)) throw new Error(`queue '${name}' is already consumed`);
    this.queueSizes.set(name, concurrency);
    if (this.state === 'running' && this.config.processing) {
      this.startRunner(name, concurrency);
      this.verkNodes?.trackQueue(name).catch((err: unknown) => this.logger.warn({ err }, 'could not register the queue with verk_nodes'));
    }
  }

  /** Stops consuming a queue gracefully: its running jobs finish (or are given back). */
  async removeQueue(name: string): Promise<void> {
    if (!this.queueSizes.delete(name)) throw new Error(`queue '${name}' is not consumed`);
    const runner = this.runners.get(name);
    if (runner) {
      this.runners.delete(name);
      await runner.stop(Date.now() + this.config.shutdownTimeoutMs);
    }
  }

  pauseQueue(name: string): void {
    this.runnerOf(name).pause();
  }

  resumeQueue(name: string): void {
    if (this.quieted) throw new Error('worker is quiet; it fetches nothing until restarted');
    this.runnerOf(name).resume();
  }

  private runnerOf(name: string): QueueRunner {
    const r = this.runners.get(name);
    if (!r) throw new Error(`queue '${name}' is not consumed by this worker`);
    return r;
  }

  private startRunner(name: string, concurrency: number): void {
    const redis = this.redis!;
    const runner = new QueueRunner(name, concurrency, {
      redis,
      openBlocking: () => {
        const conn = openRedis(this.config.redis, { connectionName: `kiqgate:block:${name}` }).redis;
        conn.on('error', (err: Error) => this.logger.debug({ err: redactText(err.message), queue: name }, 'blocking connection error'));
        return conn;
      },
      keys: this.keys, config: this.config, logger: this.logger, events: this, registry: this.registry, nodeId: this.nodeId,
      resque: this.resque, onFetch: this.metrics?.fetched, tracing: this.consumerTracing, observer: this.jobObserver,
    });
    this.runners.set(name, runner);
    runner.start();
    if (this.quieted) runner.pause();
  }

  // ---- EngineView --------------------------------------------------------------------------

  queues(): string[] {
    return [...this.queueSizes.keys()];
  }

  concurrency(): number {
    let n = 0;
    for (const c of this.queueSizes.values()) n += c;
    return n;
  }

  running(): RunningJob[] {
    return [...this.runners.values()].flatMap((r) => r.running());
  }

  isQuiet(): boolean {
    return this.quieted || this.state === 'stopping' || this.state === 'forcing' || this.state === 'stopped';
  }

  /** Sidekiq's TSTP: stop fetching and promoting; running jobs finish. */
  quiet(): void {
    if (this.quieted) return;
    this.quieted = true;
    this.logger.info('worker quiet: no new jobs will be fetched');
    for (const r of this.runners.values()) r.pause();
    void this.scheduler?.stop();
  }

  requestStop(): void {
    void this.stop();
  }

  async requeueInProgress(queue: string, node: string): Promise<number> {
    if (!this.redis) throw new Error('worker is not started');
    return requeueAll(this.redis, this.keys.inProgress(queue, node), this.keys.queue(queue), 1000, dialectFor(this.peer).queueEnds.pop);
  }
}

/** `new Worker(options)`, started. */
export async function createWorker(options: WorkerOptions & WorkerHooks = {}): Promise<Worker> {
  const w = new Worker(options);
  await w.start();
  return w;
}
