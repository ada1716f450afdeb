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
 */
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { KeyLayout, type Peer } from '../wire/index.js';
import { closeConnection, openRedis } from '../support/connection.js';
import { delay } from '../support/delay.js';
import { redactText, redactUrl } from '../support/redact.js';
import { type WorkerConfig, type WorkerOptions, ConfigError, resolveConfig } from './config.js';
import type { EngineService, EngineView, RunningJob } from './engine-view.js';
import { EngineEmitter } from './events.js';
import { NodeClaim } from './node-claim.js';
import { processIdentity } from './process-identity.js';
import { QueueRunner } from './queue-runner.js';
import { Registry } from './registry.js';
import { Scheduler } from './scheduler.js';
import { defineScripts, requeueAll } from './scripts.js';
import { SidekiqHeartbeat } from './sidekiq-heartbeat.js';
import { VerkNodes } from './verk-nodes.js';

type State = 'idle' | 'running' | 'stopping' | 'stopped';

/** How long after the shutdown deadline stop() still waits for Redis to take its last writes. */
const REDIS_GRACE_MS = 2_000;

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
  private state: State = 'idle';
  private quieted = false;
  private stopPromise: Promise<void> | undefined;
  private stoppedResolve!: () => void;
  /** Resolves once stop() has finished (whoever started it: API, signal, Sidekiq's TERM). */
  readonly stopped: Promise<void> = new Promise((resolve) => { this.stoppedResolve = resolve; });

  /**
   * @param options the API layer of the configuration.
   * @param config an already resolved configuration (the CLI passes file/env/flags merged in);
   *   when omitted, `options` alone are used, with the defaults.
   */
  constructor(options: WorkerOptions = {}, config?: WorkerConfig) {
    const cfg = config ?? resolveConfig({ api: options });
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
      await this.awaitRedis(redis);
    } catch (err) {
      this.abortStart(err);
    }
    if (this.stopCalled()) return;
    defineScripts(redis);
    if (this.config.processing && !this.config.generateNodeId) {
      // Before any runner recovers "its" in-progress lists: they must not be another process's.
      const claim = new NodeClaim(redis, this.keys, this.nodeId, this.identity, this.config.heartbeatMs, this.logger);
      try {
        await claim.start();
      } catch (err) {
        this.abortStart(err);
      }
      if (this.stopCalled()) {
        // Ends the claim's heartbeat; its release may fail on the connection stop() closed, and
        // the claim then lapses within two heartbeats.
        void claim.stop().catch(() => undefined);
        return;
      }
      this.claim = claim;
    }
    this.logger.info({
      redis: typeof this.config.redis === 'string' ? redactUrl(this.config.redis) : this.config.redis ? 'options' : 'default',
      queues: Object.fromEntries(this.queueSizes), nodeId: this.nodeId, identity: this.identity,
      processing: this.config.processing, peer: this.peer, namespace: this.config.namespace,
    }, 'worker starting');

    if (this.config.processing) for (const [q, n] of this.queueSizes) this.startRunner(q, n);
    this.scheduler = new Scheduler(redis, this.keys, this.config, this.logger.child({ service: 'scheduler' }));
    this.scheduler.start();

    if (this.config.sidekiqHeartbeat) this.services.push(new SidekiqHeartbeat(redis, this));
    if (this.config.generateNodeId) {
      this.verkNodes = new VerkNodes(redis, this, { heartbeatMs: this.config.heartbeatMs });
      this.services.push(this.verkNodes);
    }
    for (const s of this.services) await s.start();
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

  /** A start that failed before anything ran: the connection goes, the worker is stopped. */
  private abortStart(err: unknown): never {
    if (this.ownsRedis) this.redis?.disconnect();
    this.redis = undefined;
    this.state = 'stopped';
    this.stoppedResolve();
    throw err;
  }

  /**
   * Waits until Redis answers a PING. Fails at once on a rejected login, and after
   * `connectTimeoutMs` when nothing answers, with an error naming the (redacted) address, so a
   * misconfigured worker says so instead of hanging in start() (and in stop() after it).
   */
  private async awaitRedis(redis: Redis): Promise<void> {
    const where = typeof this.config.redis === 'string' ? redactUrl(this.config.redis) : 'the configured Redis';
    const timeoutMs = this.config.connectTimeoutMs;
    let lastError = '';
    let onError!: (err: Error) => void;
    let timer: NodeJS.Timeout | undefined;
    const failed = new Promise<never>((_, reject) => {
      onError = (err: Error) => {
        lastError = redactText(err.message);
        if (/WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username/i.test(err.message)) {
          reject(new Error(`Redis at ${where} refused the login: ${lastError}`));
        }
      };
      redis.on('error', onError);
      if (timeoutMs > 0) {
        timer = setTimeout(() => reject(new Error(`Redis at ${where} did not answer within ${timeoutMs} ms${lastError ? ` (${lastError})` : ''}`)), timeoutMs);
      }
    });
    const ping = redis.ping();
    ping.catch(() => {}); // when the race is lost, the disconnect rejects it: not an unhandled rejection
    try {
      await Promise.race([ping, failed]);
    } catch (err) {
      const msg = redactText(err instanceof Error ? err.message : String(err));
      if (msg.startsWith(`Redis at ${where}`)) throw err;
      if (/WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username/i.test(msg)) throw new Error(`Redis at ${where} refused the login: ${msg}`);
      throw new Error(`Redis at ${where} failed: ${msg}`);
    } finally {
      clearTimeout(timer);
      redis.off('error', onError);
    }
  }

  /** Graceful stop (idempotent): see QueueRunner.stop for what happens to running jobs. */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  private async doStop(): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'stopped';
      this.stoppedResolve();
      return;
    }
    this.state = 'stopping';
    this.logger.info({ timeoutMs: this.config.shutdownTimeoutMs }, 'worker stopping');
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    const giveUp = delay(this.config.shutdownTimeoutMs + REDIS_GRACE_MS);
    const outcome = await Promise.race([
      this.stopParts(deadline).then(() => 'stopped' as const),
      giveUp.promise.then(() => 'gave up' as const),
    ]);
    giveUp.cancel();
    if (outcome === 'gave up') this.abandonRedis();
    this.claim = undefined;
    this.services = [];
    this.runners.clear();
    if (this.redis && this.ownsRedis) await closeConnection(this.redis);
    this.redis = undefined;
    this.state = 'stopped';
    this.logger.info('worker stopped');
    this.stoppedResolve();
  }

  /** The scheduler, the runners (jobs finish by `deadline`), the services, then the node id claim. */
  private async stopParts(deadline: number): Promise<void> {
    try {
      await this.scheduler?.stop();
      await Promise.all([...this.runners.values()].map((r) => r.stop(deadline)));
    } catch (err) {
      this.logger.error({ err }, 'a queue runner failed to stop');
    }
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
    if (!/^[^\s:]+$/.test(name)) throw new ConfigError('queue', 'addQueue', `invalid queue name ${JSON.stringify(name)}`);
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new ConfigError(`queues.${name}`, 'addQueue', `expected an integer ≥ 1, got ${concurrency}`);
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
    return this.quieted || this.state === 'stopping' || this.state === 'stopped';
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
    return requeueAll(this.redis, this.keys.inProgress(queue, node), this.keys.queue(queue));
  }
}

/** `new Worker(options)`, started. */
export async function createWorker(options: WorkerOptions = {}): Promise<Worker> {
  const w = new Worker(options);
  await w.start();
  return w;
}
