/**
 * The running processes a runtime registers, as its admin API shows them (Sidekiq::ProcessSet,
 * Exq's node ping, Verk's nodes, Resque's workers), and the signals it takes through Redis:
 * Sidekiq's Process#quiet!/stop! (`LPUSH <identity>-signals TSTP|TERM` + `EXPIRE 60` in one
 * MULTI), which Sidekiq and kiqgate workers pop on their next beat.
 */
import type { Redis } from 'ioredis';
import type { AdminProcessLayout, KeyLayout } from '../wire/index.js';
import { AdminError } from './errors.js';

/** One process. Absent fields are what its runtime does not record. */
export interface ProcessView {
  /** Its id in the registry (Sidekiq identity, Verk node id, Resque worker id). */
  readonly id: string;
  readonly hostname: string | undefined;
  readonly pid: number | undefined;
  readonly tag: string | undefined;
  readonly queues: readonly string[];
  readonly concurrency: number | undefined;
  /** Jobs running now. */
  readonly busy: number;
  /** Quieted: fetching no new jobs (Sidekiq's `quiet == "true"`). */
  readonly quiet: boolean;
  /** Last heartbeat, epoch ms. */
  readonly beatMs: number | undefined;
  /** Start time, epoch ms. */
  readonly startedAtMs: number | undefined;
  /** Whether its liveness key is there (a hash with a TTL, Verk's alive key); Resque has none. */
  readonly alive: boolean;
}

/** Sidekiq's SIGNALS list lives 60 s, as Process#signal sets it. */
const SIGNAL_TTL_SECONDS = 60;

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
};

export class ProcessSet {
  constructor(private readonly redis: Redis, private readonly keys: KeyLayout, private readonly layout: AdminProcessLayout) {}

  /** How many are registered (the raw set size, as Sidekiq's processes_size). */
  async size(): Promise<number> {
    const l = this.layout;
    return this.redis.scard(l.kind === 'verk-nodes' ? this.keys.verkNodes : l.set(this.keys));
  }

  /** Every registered process, sorted by id (Sidekiq skips entries whose hash has expired: so do we). */
  async list(): Promise<ProcessView[]> {
    const l = this.layout;
    if (l.kind === 'heartbeat-hash') return this.heartbeatHashes(l);
    if (l.kind === 'verk-nodes') return this.verkNodes();
    return this.resqueWorkers(l);
  }

  /** Jobs running over all processes (Sidekiq's workers_size: the sum of `busy`). */
  async busy(): Promise<number> {
    return (await this.list()).reduce((n, p) => n + p.busy, 0);
  }

  /** Quiets one process (stops its fetching); an AdminError when the runtime takes no signals or the id is unknown. */
  quiet(id: string): Promise<void> {
    return this.signal(id, 'quiet');
  }

  /** Stops one process (quiet, then shut down within its timeout). */
  stop(id: string): Promise<void> {
    return this.signal(id, 'stop');
  }

  private async signal(id: string, what: 'quiet' | 'stop'): Promise<void> {
    const l = this.layout;
    if (l.kind !== 'heartbeat-hash') throw new AdminError('unsupported', l.noSignals, 'action');
    const sig = l.signals[what];
    if (sig === undefined) throw new AdminError('unsupported', `this runtime's processes take no ${what} signal through Redis (only ${l.signals.quiet} to quiet)`, 'action');
    if (!(await this.redis.sismember(l.set(this.keys), id))) {
      throw new AdminError('not_found', `no process ${JSON.stringify(id)} in ${l.set(this.keys)}; see the ids with \`processes\``, 'id');
    }
    const list = l.signals.list(this.keys, id);
    await this.redis.multi().lpush(list, sig).expire(list, SIGNAL_TTL_SECONDS).exec();
  }

  private async heartbeatHashes(l: Extract<AdminProcessLayout, { kind: 'heartbeat-hash' }>): Promise<ProcessView[]> {
    const ids = (await this.redis.smembers(l.set(this.keys))).sort();
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hmget(l.hash(this.keys, id), 'info', 'busy', 'beat', 'quiet');
    const replies = (await pipe.exec()) ?? [];
    const out: ProcessView[] = [];
    ids.forEach((id, i) => {
      const [err, fields] = replies[i]!;
      if (err) throw err;
      const [info, busy, beat, quiet] = fields as Array<string | null>;
      if (info === null || info === undefined) return; // expired: a process that died without cleaning up
      let doc: Record<string, unknown> = {};
      try {
        doc = JSON.parse(info) as Record<string, unknown>;
      } catch {
        // an info that is not JSON: the process is listed with what the hash itself says
      }
      const started = num(doc.started_at);
      out.push({
        id,
        hostname: typeof doc.hostname === 'string' ? doc.hostname : undefined,
        pid: num(doc.pid),
        tag: typeof doc.tag === 'string' ? doc.tag : undefined,
        queues: Array.isArray(doc.queues) ? doc.queues.map(String) : [],
        concurrency: num(doc.concurrency),
        busy: num(busy) ?? 0,
        quiet: quiet === 'true',
        beatMs: num(beat) === undefined ? undefined : num(beat)! * 1000,
        startedAtMs: started === undefined ? undefined : started * 1000,
        alive: true,
      });
    });
    return out;
  }

  private async verkNodes(): Promise<ProcessView[]> {
    const ids = (await this.redis.smembers(this.keys.verkNodes)).sort();
    const out: ProcessView[] = [];
    for (const id of ids) {
      const [ttl, queues] = await Promise.all([this.redis.pttl(this.keys.verkNode(id)), this.redis.smembers(this.keys.verkNodeQueues(id))]);
      queues.sort();
      const busy = await Promise.all(queues.map((q) => this.redis.llen(this.keys.inProgress(q, id))));
      out.push({
        id, hostname: undefined, pid: undefined, tag: undefined, queues, concurrency: undefined,
        busy: busy.reduce((a, b) => a + b, 0), quiet: false, beatMs: undefined, startedAtMs: undefined, alive: ttl > 0,
      });
    }
    return out;
  }

  private async resqueWorkers(l: Extract<AdminProcessLayout, { kind: 'resque-workers' }>): Promise<ProcessView[]> {
    const ids = (await this.redis.smembers(l.set(this.keys))).sort();
    const out: ProcessView[] = [];
    for (const id of ids) {
      const [working, started, beat] = await Promise.all([
        this.redis.exists(l.working(this.keys, id)), this.redis.get(l.started(this.keys, id)), this.redis.hget(l.heartbeat(this.keys), id),
      ]);
      // `<host>:<pid>:<queues joined by ",">` (Resque's Worker#to_s); a host may contain ':'.
      const parts = id.split(':');
      const queues = parts.length >= 3 ? parts[parts.length - 1]!.split(',') : [];
      const pid = parts.length >= 3 ? num(parts[parts.length - 2]) : undefined;
      const startedMs = started === null ? Number.NaN : Date.parse(started.replace(' ', 'T').replace(/ ([+-]\d\d)(\d\d)$/, '$1:$2'));
      const beatMs = beat === null ? Number.NaN : Date.parse(beat);
      out.push({
        id, hostname: parts.length >= 3 ? parts.slice(0, -2).join(':') : undefined, pid, tag: undefined, queues, concurrency: 1,
        busy: working, quiet: false, beatMs: Number.isNaN(beatMs) ? undefined : beatMs,
        startedAtMs: Number.isNaN(startedMs) ? undefined : startedMs, alive: beat !== null,
      });
    }
    return out;
  }
}
