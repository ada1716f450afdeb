/**
 * The Sidekiq process heartbeat (`Launcher#❤`), written so that Sidekiq's own API
 * (`Sidekiq::ProcessSet`, `Sidekiq::WorkSet`, `Sidekiq::Stats`) and Web UI list a kiqgate
 * process and the jobs it is running, in the layout of the Sidekiq version `view.peer` names.
 *
 * Every beat (the first one inside `start()`), in Sidekiq's order:
 *   1. MULTI { UNLINK <id>:work; HSET <id>:work <slot> <work JSON>…; EXPIRE <id>:work 60 }
 *      (6.4.1: the key is `<id>:workers`, one HSET per slot, EXPIRE always sent;
 *       7.2.3+: one HSET for all slots, HSET and EXPIRE only when something runs);
 *   2. PING, timed in µs → `rtt_us`;
 *   3. MULTI { SADD processes <id>; EXISTS <id>; HSET <id> info … rss …; EXPIRE <id> 60;
 *      RPOP <id>-signals } (6.4.1 sends HMSET).
 * A process counts as alive while `<id>` exists, so a crashed kiqgate disappears from the Web UI
 * within 60 s, exactly as a crashed Sidekiq does.
 *
 * Signals (`Sidekiq::Process#quiet!`/`#stop!` LPUSH them): one is popped per beat, so they are
 * handled FIFO with up to one beat of delay, as in Sidekiq. TSTP quiets, TERM (and INT) stops.
 *
 * Stats (`stat:processed`/`stat:failed`) are not flushed here: the engine counts them where it
 * acks, so a count never depends on a beat having happened.
 */
import type { Redis } from 'ioredis';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { type SidekiqProcessLayout, dialectFor, floatSeconds, nowMs, orderedJson } from '../wire/index.js';
import type { EngineService, EngineView, RunningJob } from './engine-view.js';
import { Periodic } from './periodic.js';
import { processHostname } from './process-identity.js';

/** TTL of `<id>` and `<id>:work`, in seconds (Sidekiq's, every version). */
const PROCESS_TTL_SECONDS = 60;

export interface SidekiqHeartbeatOptions {
  /** Beat period; Sidekiq's BEAT_PAUSE for the peer by default (5 s for 6.x, 10 s after). */
  beatMs?: number;
  /** `tag` in `info` (the Web UI shows it); Sidekiq's default: "" (6/7), the cwd's name (8). */
  tag?: string;
  /** `labels` in `info`. */
  labels?: string[];
}

/** One entry of the work hash: `{"queue":…,"payload":"<raw job JSON>","run_at":<int s>}`. */
export function workEntry(job: RunningJob): string {
  // payload is the raw job text as a JSON *string* (double-encoded), as every Sidekiq writes it.
  return orderedJson([
    ['queue', JSON.stringify(job.queue)],
    ['payload', JSON.stringify(job.payload)],
    ['run_at', String(Math.floor(job.startedAtMs / 1000))],
  ]);
}

export class SidekiqHeartbeat implements EngineService {
  private readonly layout: SidekiqProcessLayout;
  private readonly beatMs: number;
  private readonly tag: string;
  private readonly labels: string[];
  private readonly log: Logger;
  private startedAtMs = 0;
  private readonly ticker: Periodic;

  constructor(
    private readonly redis: Redis,
    private readonly view: EngineView,
    opts: SidekiqHeartbeatOptions = {},
  ) {
    const registry = dialectFor(view.peer).processRegistry;
    if (registry.kind !== 'sidekiq') {
      throw new Error(`SidekiqHeartbeat writes a Sidekiq layout; peer '${view.peer}' is not a Sidekiq version`);
    }
    this.layout = registry.layout;
    this.beatMs = opts.beatMs ?? this.layout.beatSeconds * 1000;
    if (!(this.beatMs > 0)) throw new Error(`beatMs must be a positive number, got ${String(opts.beatMs)}`);
    this.tag = opts.tag ?? (this.layout.defaultTag === 'cwd-name' ? basename(process.cwd()) : '');
    this.labels = opts.labels ?? [];
    this.log = view.logger.child({ service: 'sidekiq-heartbeat', identity: view.identity });
    this.ticker = new Periodic(this.beatMs, () => this.beatOnce(), (err) => this.log.error({ err }, 'heartbeat failed'));
  }

  /** Registers the process (first beat) and keeps beating until `stop()`. */
  async start(): Promise<void> {
    if (this.ticker.active) return;
    this.startedAtMs = nowMs();
    await this.ticker.start();
  }

  /** Deregisters as Sidekiq's `clear_heartbeat` does; `<id>` is left to expire. Never throws. */
  async stop(): Promise<void> {
    // Waits for a beat in flight: it would SADD the identity back after the SREM below.
    if (!(await this.ticker.stop())) return;
    const { keys, identity } = this.view;
    if (this.redis.status === 'end') {
      this.log.warn('connection closed; the process hash will expire on its own');
      return;
    }
    try {
      await this.redis.pipeline()
        .srem(keys.processes, identity)
        .unlink(this.workKey)
        .exec();
    } catch (err) {
      this.log.warn({ err }, 'could not deregister the process; it expires within 60 s');
    }
  }

  /** One beat now (also what the timer runs). Concurrent calls share the beat in flight. */
  beat(): Promise<void> {
    return this.ticker.runNow();
  }

  /** The `info` JSON, fields in the peer version's order. */
  info(): string {
    return this.layout.info({
      hostname: processHostname(), startedAtMs: this.startedAtMs, pid: process.pid, tag: this.tag,
      concurrency: this.view.concurrency(), queues: [...new Set(this.view.queues())], labels: this.labels, identity: this.view.identity,
    });
  }

  private get workKey(): string {
    return this.view.keys.processWork(this.view.identity, this.layout.workKeySuffix);
  }

  private async beatOnce(): Promise<void> {
    const { keys, identity } = this.view;
    const procKey = keys.process(identity);
    const running = this.view.running();

    const work = this.redis.multi().unlink(this.workKey);
    if (this.layout.workWrite === 'per-slot') {
      for (const job of running) work.hset(this.workKey, job.slotId, workEntry(job));
      work.expire(this.workKey, PROCESS_TTL_SECONDS);
    } else if (running.length > 0) {
      work.hset(this.workKey, ...running.flatMap((job) => [job.slotId, workEntry(job)]));
      work.expire(this.workKey, PROCESS_TTL_SECONDS);
    }
    throwFirstError(await work.exec());

    const t0 = process.hrtime.bigint();
    await this.redis.ping();
    const rttUs = Number((process.hrtime.bigint() - t0) / 1000n);

    const fields: string[] = ['info', this.info()];
    if (this.layout.concurrencyField) fields.push('concurrency', String(this.view.concurrency()));
    fields.push(
      'busy', String(running.length),
      'beat', floatSeconds(nowMs()),
      'rtt_us', String(rttUs),
      'quiet', this.view.isQuiet() ? 'true' : 'false',
      'rss', String(Math.floor(process.memoryUsage.rss() / 1024)),
    );
    const tx = this.redis.multi().sadd(keys.processes, identity).exists(procKey);
    if (this.layout.processHashCommand === 'hmset') tx.hmset(procKey, ...fields);
    else tx.hset(procKey, ...fields);
    tx.expire(procKey, PROCESS_TTL_SECONDS).rpop(keys.processSignals(identity));
    const results = throwFirstError(await tx.exec());

    if (results[1]?.[1] === 0) this.log.debug({ busy: running.length }, 'process registered');
    const signal = results[4]?.[1];
    if (typeof signal === 'string') this.handleSignal(signal);
  }

  private handleSignal(signal: string): void {
    switch (signal) {
      case 'TSTP':
        this.log.info({ signal }, 'quiet requested through Redis');
        this.view.quiet();
        return;
      case 'TERM':
      case 'INT':
        this.log.info({ signal }, 'stop requested through Redis');
        this.view.requestStop();
        return;
      case 'TTIN':
      case 'INFO': // Sidekiq dumps thread backtraces; the closest is what each slot is running.
        this.log.info({ signal, running: this.view.running().map(({ slotId, queue, startedAtMs }) => ({ slotId, queue, startedAtMs })) }, 'running jobs');
        return;
      default:
        this.log.warn({ signal }, 'ignoring an unknown signal');
    }
  }
}

type ExecResult = [error: Error | null, result: unknown][];

function throwFirstError(results: ExecResult | null): ExecResult {
  if (results === null) throw new Error('MULTI was discarded');
  for (const [err] of results) if (err) throw err;
  return results;
}
