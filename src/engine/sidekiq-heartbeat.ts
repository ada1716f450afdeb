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
import { PEER_TRAITS, floatSeconds, nowMs, type Peer } from '../wire/index.js';
import type { EngineService, EngineView, RunningJob } from './engine-view.js';
import { Periodic } from './periodic.js';
import { processHostname } from './process-identity.js';

/** TTL of `<id>` and `<id>:work`, in seconds (Sidekiq's, every version). */
const PROCESS_TTL_SECONDS = 60;

/** The `version` a 7.x/8.x `info` carries: the release whose layout kiqgate writes. */
const EMULATED_VERSION: Partial<Record<Peer, string>> = { sidekiq7: '7.3.10', sidekiq8: '8.1.7' };

export interface SidekiqHeartbeatOptions {
  /** Beat period; Sidekiq's BEAT_PAUSE for the peer by default (5 s for 6.x, 10 s after). */
  beatMs?: number;
  /** `tag` in `info` (the Web UI shows it); Sidekiq's default: "" (6/7), the cwd's name (8). */
  tag?: string;
  /** `labels` in `info`. */
  labels?: string[];
}

/** A JSON object whose keys keep the given order (a JS object would move integer-like keys). */
function orderedJson(entries: ReadonlyArray<readonly [string, string]>): string {
  return `{${entries.map(([k, raw]) => `${JSON.stringify(k)}:${raw}`).join(',')}}`;
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
  private readonly peer: Peer;
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
    this.peer = view.peer;
    const traits = PEER_TRAITS[this.peer];
    if (traits.family !== 'sidekiq') {
      throw new Error(`SidekiqHeartbeat writes a Sidekiq layout; peer '${this.peer}' is not a Sidekiq version`);
    }
    this.beatMs = opts.beatMs ?? traits.beatSeconds * 1000;
    if (!(this.beatMs > 0)) throw new Error(`beatMs must be a positive number, got ${String(opts.beatMs)}`);
    this.tag = opts.tag ?? (this.peer === 'sidekiq8' ? basename(process.cwd()) : '');
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
    const queues = [...new Set(this.view.queues())];
    const concurrency = this.view.concurrency();
    const weights = orderedJson(queues.map((q) => [q, '0'] as const)); // 0 = strict order
    const head: [string, string][] = [
      ['hostname', JSON.stringify(processHostname())],
      ['started_at', floatSeconds(this.startedAtMs)],
      ['pid', String(process.pid)],
      ['tag', JSON.stringify(this.tag)],
    ];
    const tail: [string, string][] = [
      ['labels', JSON.stringify(this.labels)],
      ['identity', JSON.stringify(this.view.identity)],
    ];
    switch (this.peer) {
      case 'sidekiq6':
        return orderedJson([...head, ['concurrency', String(concurrency)], ['queues', JSON.stringify(queues)], ...tail]);
      case 'sidekiq7':
        return orderedJson([
          ...head, ['concurrency', String(concurrency)], ['queues', JSON.stringify(queues)], ['weights', `[${weights}]`],
          ...tail, ['version', JSON.stringify(EMULATED_VERSION.sidekiq7)], ['embedded', 'false'],
        ]);
      default: {
        // 8.x: concurrency moved to its own hash field; kiqgate is one capsule over all queues.
        const capsule = orderedJson([['concurrency', String(concurrency)], ['mode', '"strict"'], ['weights', weights]]);
        return orderedJson([
          ...head, ['capsules', orderedJson([['default', capsule]])], ['queues', JSON.stringify(queues)], ['weights', `[${weights}]`],
          ...tail, ['version', JSON.stringify(EMULATED_VERSION.sidekiq8)], ['embedded', 'false'],
        ]);
      }
    }
  }

  private get workKey(): string {
    return this.view.keys.processWork(this.view.identity, PEER_TRAITS[this.peer].workKeySuffix);
  }

  private async beatOnce(): Promise<void> {
    const { keys, identity } = this.view;
    const procKey = keys.process(identity);
    const running = this.view.running();

    const work = this.redis.multi().unlink(this.workKey);
    if (this.peer === 'sidekiq6') {
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
    if (this.peer === 'sidekiq8') fields.push('concurrency', String(this.view.concurrency()));
    fields.push(
      'busy', String(running.length),
      'beat', floatSeconds(nowMs()),
      'rtt_us', String(rttUs),
      'quiet', this.view.isQuiet() ? 'true' : 'false',
      'rss', String(Math.floor(process.memoryUsage.rss() / 1024)),
    );
    const tx = this.redis.multi().sadd(keys.processes, identity).exists(procKey);
    if (this.peer === 'sidekiq6') tx.hmset(procKey, ...fields);
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
