/**
 * Redis key names, in one place. Sidekiq OSS never prefixes keys; Sidekiq 6 with
 * redis-namespace put `<ns>:` in front of every key (set members and JSON untouched); Exq
 * prefixes with `exq` by default. A `KeyLayout` with a namespace reproduces that.
 */
export class KeyLayout {
  /** `ns:` or the empty string. */
  readonly prefix: string;

  constructor(readonly namespace?: string) {
    this.prefix = namespace ? `${namespace}:` : '';
  }

  /** Applies the namespace to any bare key name. */
  key(name: string): string {
    return this.prefix + name;
  }

  /** SET of queue names (`queues`). */
  get queues(): string { return `${this.prefix}queues`; }
  /** LIST `queue:<q>`. */
  queue(name: string): string { return `${this.prefix}queue:${name}`; }
  /** ZSET of scheduled jobs. */
  get schedule(): string { return `${this.prefix}schedule`; }
  /** ZSET of failed jobs waiting to retry. */
  get retry(): string { return `${this.prefix}retry`; }
  /** ZSET of jobs out of retries. */
  get dead(): string { return `${this.prefix}dead`; }
  /** SET of Sidekiq process identities. */
  get processes(): string { return `${this.prefix}processes`; }
  /** HASH of one process's heartbeat. */
  process(identity: string): string { return `${this.prefix}${identity}`; }
  /** HASH of one process's busy work (`:work`, or `:workers` for Sidekiq ≤ 6.4.1). */
  processWork(identity: string, suffix = ':work'): string { return `${this.prefix}${identity}${suffix}`; }
  /** LIST of signals the API sends to a process. */
  processSignals(identity: string): string { return `${this.prefix}${identity}-signals`; }
  /** `stat:processed` / `stat:failed`, optionally per UTC day (`YYYY-MM-DD`) or per queue (Verk). */
  stat(kind: 'processed' | 'failed', suffix?: string): string {
    return `${this.prefix}stat:${kind}${suffix === undefined ? '' : `:${suffix}`}`;
  }
  /** Verk's reliable-fetch list: `inprogress:<q>:<node>`. */
  inProgress(queue: string, node: string): string { return `${this.prefix}inprogress:${queue}:${node}`; }
  /** Verk's SET of live node ids. */
  get verkNodes(): string { return `${this.prefix}verk_nodes`; }
  /** Verk's liveness key of a node (`alive`, with a TTL). */
  verkNode(node: string): string { return `${this.prefix}verk:node:${node}`; }
  /** kiqgate's own: which process runs the worker with this fixed node id. */
  nodeClaim(node: string): string { return `${this.prefix}kiqgate:node-claim:${node}`; }
  /** Verk's SET of the queues a node fetched from. */
  verkNodeQueues(node: string): string { return `${this.prefix}verk:node:${node}:queues`; }
  /**
   * Exq's SET of node ids (its 5 s node ping SADDs it). Exq builds its node keys as `<ns>:` + name
   * even when the namespace is empty, so with no namespace this is `:processes`, not `processes`.
   */
  get exqProcesses(): string { return `${this.namespace ?? ''}:processes`; }
  /** Exq's HASH of one node's ping (`info`, `busy`, `beat`, `quiet`), EXPIRE 60 s on every ping. */
  exqNode(node: string): string { return `${this.namespace ?? ''}:${node}`; }
}
