/**
 * `Admin`: Sidekiq::API's operations for every runtime kiqgate speaks, on one Redis layout.
 *
 *   const admin = new Admin({ redis: 'redis://127.0.0.1:6379', peer: 'sidekiq7' });
 *   await admin.stats();                       // Sidekiq::Stats
 *   await admin.queues.all();                  // Sidekiq::Queue#size / #latency
 *   await admin.set('dead').actAll('retry', { queue: 'mailers' });
 *   await admin.processes.quiet(identity);     // Sidekiq::Process#quiet!
 *   await admin.close();
 *
 * `peer` and `namespace` choose the layout as for a worker (Exq: `exq:`, Resque: `resque:` by
 * default): which sets, lists and registries exist and where. Each entry is still read, and
 * retried, by the rules of the dialect that wrote it.
 */
import type { Redis } from 'ioredis';
import { defineScripts } from '../engine/scripts.js';
import { type RedisTarget, closeConnection, openRedis } from '../support/connection.js';
import { type AdminSetName, type Dialect, KeyLayout, type Peer, checkPeer, dialectFor } from '../wire/index.js';
import { AdminError } from './errors.js';
import { FailedList } from './failed-list.js';
import { JobSet } from './job-set.js';
import { ProcessSet } from './processes.js';
import { Queues } from './queues.js';
import { type Stats, readStats } from './stats.js';

export interface AdminOptions {
  /** A Redis URL, ioredis options, or a connection (left open by close()). Default: the environment's URL. */
  redis?: RedisTarget;
  /** Whose layout to read (default sidekiq7). */
  peer?: Peer;
  /** Key prefix (default: the peer's own: none, `exq`, `resque`). */
  namespace?: string;
}

export class Admin {
  readonly peer: Peer;
  readonly keys: KeyLayout;
  readonly queues: Queues;
  readonly processes: ProcessSet;
  private readonly layout: Dialect;
  private readonly redis: Redis;
  private readonly owned: boolean;
  private readonly sets: Partial<Record<AdminSetName, JobSet>> = {};
  private readonly failedList: FailedList | undefined;

  constructor(opts: AdminOptions = {}) {
    const peer = checkPeer(opts.peer ?? 'sidekiq7');
    this.peer = peer;
    this.layout = dialectFor(peer);
    this.keys = new KeyLayout(opts.namespace ?? this.layout.defaultNamespace);
    const { redis, owned } = openRedis(opts.redis);
    this.redis = redis;
    this.owned = owned;
    if (owned) redis.on('error', () => {}); // each command reports its own failure
    defineScripts(redis);
    for (const name of this.layout.admin.sets) this.sets[name] = new JobSet(redis, name, this.keys, this.layout);
    const failed = this.layout.admin.failedList;
    this.failedList = failed ? new FailedList(redis, this.keys, failed) : undefined;
    this.queues = new Queues(redis, this.keys, this.layout);
    this.processes = new ProcessSet(redis, this.keys, this.layout.admin.processes);
  }

  /** The sets this layout has (Sidekiq, Verk, Exq: scheduled, retries, dead; Resque: none). */
  get setNames(): readonly AdminSetName[] {
    return this.layout.admin.sets;
  }

  /** Whether this layout keeps failures in a list (Resque's `failed`). */
  get hasFailedList(): boolean {
    return this.failedList !== undefined;
  }

  /** `schedule`, `retry` or `dead`; an AdminError `unsupported` when the runtime keeps no such set. */
  set(name: AdminSetName): JobSet {
    const set = this.sets[name];
    if (!set) {
      const instead = this.failedList ? `; its failures are in the ${this.failedList.key} list (use failed)` : '';
      throw new AdminError('unsupported', `${this.peer} keeps no ${name} set${instead}`, 'set');
    }
    return set;
  }

  /** The failure list (Resque's `failed`); an AdminError `unsupported` when the runtime has none. */
  failed(): FailedList {
    if (!this.failedList) throw new AdminError('unsupported', `${this.peer} keeps no failure list; its failures are in the retry and dead sets`, 'set');
    return this.failedList;
  }

  /** What Sidekiq::Stats reports. */
  stats(): Promise<Stats> {
    return readStats({
      redis: this.redis, keys: this.keys, layout: this.layout, queues: this.queues, sets: this.sets, failed: this.failedList, processes: this.processes,
    });
  }

  /** Closes the connection when Admin opened it. */
  async close(): Promise<void> {
    if (this.owned) await closeConnection(this.redis);
  }
}
