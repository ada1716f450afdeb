/**
 * Verk's node registry and dead-node recovery (`Verk.Node.Manager`, `generate_node_id: true`),
 * in Verk's keys, so kiqgate and Verk nodes can share queues and recover each other's jobs.
 *
 *   verk_nodes             SET of node ids
 *   verk:node:<id>         "alive", PSETEX with TTL = 2 × heartbeat
 *   verk:node:<id>:queues  SET of the queues whose in-progress lists the node may hold
 *
 * Each beat: PSETEX our key; then SSCAN `verk_nodes` and PTTL every other node. PTTL < 0 (key
 * gone, or no TTL) means the node is dead: every `inprogress:<q>:<dead>` of its queues goes back
 * to the consuming end of `queue:<q>` (`view.requeueInProgress`, atomic per batch), then the
 * node is deregistered. Every live node sweeps, so sweepers race; the move is atomic, so a job
 * is moved once, and the repeated deregister is harmless.
 *
 * Where we differ from Verk: Verk SADDs `verk_nodes` and the queues set inside every fetch
 * MULTI; we SADD them at start and on every beat (and `trackQueue` for a queue added between
 * beats), so a node deregistered by a too-eager sweeper registers itself again. We also sweep
 * once at start, so a node started after a crash recovers the orphans without waiting a beat.
 *
 * After an outage (our connection came back, or our own beat failed) we do not sweep for one key
 * lifetime (2 × heartbeat): every peer was cut off too, and its key may have expired while it was
 * alive and running jobs. Sweeping at once would requeue those running jobs (duplicates); waiting
 * lets live peers beat again first. Beats run at a fixed rate (a slow sweep does not delay the
 * next PSETEX), so our own key never lapses because of our own sweep.
 *
 * Guarantee is at-least-once: a node stalled longer than 2 × heartbeat is taken for dead and its
 * jobs may run twice, as in Verk. `stop()` must run after the engine drained its running jobs.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { EngineService, EngineView } from './engine-view.js';
import { Periodic } from './periodic.js';

export interface VerkNodesOptions {
  /** Heartbeat period in ms (Verk's `heartbeat`, default 30000); the node key lives twice that. */
  heartbeatMs?: number;
}

/** One dead node whose in-progress jobs were given back. */
export interface NodeRecovery {
  node: string;
  /** Jobs moved back to their queues (by this sweeper; a racing sweeper may have moved others). */
  moved: number;
  queues: string[];
  /** Epoch ms when the dead node was found and when its jobs were all back in their queues. */
  detectedAtMs: number;
  recoveredAtMs: number;
  durationMs: number;
}

export interface VerkNodesEvents {
  recovered: [NodeRecovery];
}

const SSCAN_COUNT = 25; // Verk's page size

export class VerkNodes extends EventEmitter<VerkNodesEvents> implements EngineService {
  readonly heartbeatMs: number;
  /** Recoveries done by this node, oldest first (the last 100). */
  readonly recoveries: NodeRecovery[] = [];
  private readonly log: Logger;
  private readonly ticker: Periodic;
  /** No sweep before this time (epoch ms): set after an outage, see the file header. */
  private sweepNotBefore = 0;
  private lastBeatFailed = false;
  private readonly onReconnect = () => this.holdSweeps('reconnected');

  constructor(
    private readonly redis: Redis,
    private readonly view: EngineView,
    opts: VerkNodesOptions = {},
  ) {
    super();
    this.heartbeatMs = opts.heartbeatMs ?? 30_000;
    if (!(this.heartbeatMs > 0)) throw new Error(`heartbeatMs must be a positive number, got ${String(opts.heartbeatMs)}`);
    this.log = view.logger.child({ service: 'verk-nodes', nodeId: view.nodeId });
    this.ticker = new Periodic(this.heartbeatMs, () => this.beatOnce(), (err) => {
      this.lastBeatFailed = true;
      this.log.error({ err }, 'node heartbeat failed');
    });
  }

  /** Registers the node, sweeps once for dead nodes, and beats until `stop()`. */
  async start(): Promise<void> {
    if (this.ticker.active) return;
    this.redis.on('reconnecting', this.onReconnect);
    await this.ticker.start();
  }

  /** Holds sweeps for one key lifetime, so peers cut off by the same outage can beat again. */
  private holdSweeps(why: string): void {
    this.sweepNotBefore = Date.now() + 2 * this.heartbeatMs;
    this.log.info({ why, until: this.sweepNotBefore }, 'dead-node sweeps held for one key lifetime after an outage');
  }

  /**
   * Graceful shutdown as Verk's Node.Manager does it: gives back our own in-progress jobs,
   * then deletes our key and queues set and leaves `verk_nodes`. Never throws.
   */
  async stop(): Promise<void> {
    this.redis.off('reconnecting', this.onReconnect);
    if (!(await this.ticker.stop())) return;
    if (this.redis.status === 'end') {
      this.log.warn('connection closed; our node key expires and a peer recovers our jobs');
      return;
    }
    const self = this.view.nodeId;
    try {
      const queues = new Set([...(await this.nodeQueues(self)), ...this.view.queues()]);
      let moved = 0;
      for (const q of queues) moved += await this.view.requeueInProgress(q, self);
      await this.deregister(self);
      this.log.info({ moved }, 'node deregistered');
    } catch (err) {
      this.log.warn({ err }, 'could not deregister the node; it expires and a peer recovers its jobs');
    }
  }

  /** Adds a queue to our queues set now (call before the first fetch from a newly added queue). */
  async trackQueue(queue: string): Promise<void> {
    await this.redis.sadd(this.view.keys.verkNodeQueues(this.view.nodeId), queue);
  }

  /** One heartbeat now: refresh our key and registration, then sweep. Concurrent calls share it. */
  beat(): Promise<void> {
    return this.ticker.runNow();
  }

  /**
   * One sweep: finds every other node whose key is gone (or has no TTL), moves its in-progress
   * jobs back to their queues, and deregisters it.
   */
  async recoverDeadNodes(): Promise<NodeRecovery[]> {
    const { keys, nodeId } = this.view;
    const out: NodeRecovery[] = [];
    for (const node of await this.scanAll(keys.verkNodes)) {
      if (node === nodeId) continue;
      if ((await this.redis.pttl(keys.verkNode(node))) >= 0) continue;
      const detectedAtMs = Date.now();
      const queues = await this.nodeQueues(node);
      let moved = 0;
      for (const q of queues) moved += await this.view.requeueInProgress(q, node);
      const recoveredAtMs = Date.now();
      await this.deregister(node);
      const rec: NodeRecovery = { node, moved, queues, detectedAtMs, recoveredAtMs, durationMs: recoveredAtMs - detectedAtMs };
      this.log.info({ deadNode: node, moved, queues, durationMs: rec.durationMs, recoveredAt: recoveredAtMs }, 'recovered the in-progress jobs of a dead node');
      this.recoveries.push(rec);
      if (this.recoveries.length > 100) this.recoveries.shift();
      this.emit('recovered', rec);
      out.push(rec);
    }
    return out;
  }

  private async beatOnce(): Promise<void> {
    const { keys, nodeId } = this.view;
    const tx = this.redis.multi()
      .psetex(keys.verkNode(nodeId), 2 * this.heartbeatMs, 'alive')
      .sadd(keys.verkNodes, nodeId);
    const queues = this.view.queues();
    if (queues.length > 0) tx.sadd(keys.verkNodeQueues(nodeId), ...queues);
    const results = await tx.exec();
    const failed = results?.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
    if (this.lastBeatFailed) {
      this.lastBeatFailed = false;
      this.holdSweeps('our previous beat failed');
    }
    if (Date.now() >= this.sweepNotBefore) await this.recoverDeadNodes();
  }

  private async deregister(node: string): Promise<void> {
    const { keys } = this.view;
    const results = await this.redis.pipeline()
      .del(keys.verkNode(node))
      .del(keys.verkNodeQueues(node))
      .srem(keys.verkNodes, node)
      .exec();
    const failed = results?.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
  }

  private nodeQueues(node: string): Promise<string[]> {
    return this.scanAll(this.view.keys.verkNodeQueues(node));
  }

  /** All members of a set, over every SSCAN page (SSCAN may repeat a member; deduplicated). */
  private async scanAll(key: string): Promise<string[]> {
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, members] = await this.redis.sscan(key, cursor, 'COUNT', SSCAN_COUNT);
      cursor = next;
      for (const m of members) seen.add(m);
    } while (cursor !== '0');
    return [...seen];
  }
}
