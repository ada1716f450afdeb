/**
 * Every process a chaos scenario starts (worker processes, redis-servers, sentinels), so that
 * each one is killed when its scenario ends, when the harness fails, and on Ctrl-C.
 *
 * A scenario owns one {@link ProcessGroup}; run.ts kills the group after the scenario whatever
 * happened. Worker processes also stop by themselves when their stdin closes, which covers a
 * harness that was itself killed with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startRedisServer, type RedisServerHandle, type RedisServerOptions } from '../../../src/support/redis-server.js';

const allGroups = new Set<ProcessGroup>();

/** Kills every process of every group (SIGKILL). Safe to call many times, also from a signal handler. */
export function killEverything(): void {
  for (const g of allGroups) g.killAllSync();
}

export const WORKER_SCRIPT = fileURLToPath(new URL('../worker-process.ts', import.meta.url));
export const SKEW_SCRIPT = fileURLToPath(new URL('../skew-clock.ts', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface WorkerSpec {
  label: string;
  /** Redis URL, or ioredis options (e.g. a sentinel group) as JSON-able data. */
  redis: string | object;
  queue?: string;
  concurrency?: number;
  heartbeatMs?: number;
  pollIntervalMs?: number;
  /** Append a line per finished job here (the run record that survives SIGKILL and Redis loss). */
  runLog: string;
  /** pino log of the worker (JSON lines). */
  log: string;
  /** Also HINCRBY runs/starts in Redis (default true). */
  recordInRedis?: boolean;
  /** Clock offset of the process in ms (preloads skew-clock.ts). */
  skewMs?: number;
  extraEnv?: Record<string, string>;
}

/** A running worker process (test/chaos/worker-process.ts). */
export class WorkerProc {
  readonly proc: ChildProcess;
  nodeId: string | undefined;
  /** What the process said about its own clock at ready (ms, its Date.now() and the real one). */
  clock: { now: number; realNow: number } | undefined;
  /** Set when we killed it on purpose (so its exit is not a crash). */
  killedOnPurpose = false;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private stderrTail = '';
  private readyWaiters: Array<(ok: boolean) => void> = [];
  private exitWaiters: Array<() => void> = [];

  constructor(readonly spec: WorkerSpec) {
    const preload = ['--import', 'tsx'];
    if (spec.skewMs !== undefined) preload.push('--import', SKEW_SCRIPT);
    this.proc = spawn(process.execPath, [...preload, WORKER_SCRIPT], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        CHAOS_REDIS: typeof spec.redis === 'string' ? spec.redis : JSON.stringify(spec.redis),
        CHAOS_QUEUE: spec.queue ?? 'chaos',
        CHAOS_CONCURRENCY: String(spec.concurrency ?? 10),
        CHAOS_HEARTBEAT_MS: String(spec.heartbeatMs ?? 1000),
        CHAOS_POLL_MS: String(spec.pollIntervalMs ?? 500),
        CHAOS_RUNLOG: spec.runLog,
        CHAOS_LOG: spec.log,
        CHAOS_RECORD_REDIS: spec.recordInRedis === false ? '0' : '1',
        ...(spec.skewMs !== undefined ? { CHAOS_SKEW_MS: String(spec.skewMs) } : {}),
        ...spec.extraEnv,
      },
    });
    this.proc.stdin?.on('error', () => undefined);
    this.proc.stderr?.on('data', (c: Buffer) => { this.stderrTail = (this.stderrTail + c.toString()).slice(-4000); });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      try {
        const msg = JSON.parse(line) as { type?: string; nodeId?: string; now?: number; realNow?: number };
        if (msg.type === 'ready') {
          this.nodeId = msg.nodeId;
          this.clock = { now: Number(msg.now), realNow: Number(msg.realNow) };
          for (const w of this.readyWaiters.splice(0)) w(true);
        }
      } catch { /* not ours */ }
    });
    this.proc.on('exit', (code, signal) => {
      this.exit = { code, signal };
      for (const w of this.readyWaiters.splice(0)) w(false);
      for (const w of this.exitWaiters.splice(0)) w();
    });
  }

  get pid(): number { return this.proc.pid ?? -1; }
  get alive(): boolean { return this.exit === undefined; }

  /** True when it exited without us asking (a non-zero code, or a signal we did not send). */
  get crashed(): boolean {
    if (!this.exit || this.killedOnPurpose) return false;
    return this.exit.code !== 0;
  }

  describeExit(): string {
    if (!this.exit) return 'running';
    const how = this.exit.signal ? `signal ${this.exit.signal}` : `code ${this.exit.code}`;
    const tail = this.stderrTail.trim().split('\n').slice(-6).join(' | ');
    return `${this.spec.label} (pid ${this.pid}) exited with ${how}${tail ? `; stderr: ${tail}` : ''}`;
  }

  /** Waits until the worker is started (its node id known). */
  async ready(timeoutMs = 30_000): Promise<void> {
    if (this.nodeId) return;
    if (this.exit) throw new Error(`${this.describeExit()} before it was ready`);
    const ok = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.readyWaiters.push((v) => { clearTimeout(t); resolve(v); });
    });
    if (!ok) throw new Error(this.exit ? `${this.describeExit()} before it was ready` : `${this.spec.label} not ready within ${timeoutMs} ms`);
  }

  /** SIGKILL now (on purpose); resolves once the process is gone. */
  async sigkill(): Promise<void> {
    this.killedOnPurpose = true;
    if (this.alive) this.proc.kill('SIGKILL');
    await this.waitExit(5_000);
  }

  /** Graceful stop (SIGTERM: the worker drains and deregisters); SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (!this.alive) return;
    this.proc.kill('SIGTERM');
    if (!(await this.waitExit(timeoutMs))) {
      this.killedOnPurpose = true;
      this.proc.kill('SIGKILL');
      await this.waitExit(5_000);
    }
  }

  waitExit(timeoutMs: number): Promise<boolean> {
    if (this.exit) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.exitWaiters.push(() => { clearTimeout(t); resolve(true); });
    });
  }
}

/** The processes of one scenario. */
export class ProcessGroup {
  readonly workers: WorkerProc[] = [];
  private readonly others = new Set<ChildProcess>();

  constructor() {
    allGroups.add(this);
  }

  startWorker(spec: WorkerSpec): WorkerProc {
    const w = new WorkerProc(spec);
    this.workers.push(w);
    return w;
  }

  /** A redis-server of this scenario (killed with it). */
  async startRedis(opts: RedisServerOptions = {}): Promise<RedisServerHandle> {
    const h = await startRedisServer(opts);
    this.others.add(h.process);
    return h;
  }

  /** Any other child (a sentinel). */
  spawnOther(cmd: string, args: string[]): ChildProcess {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.others.add(p);
    return p;
  }

  /** Workers that exited without being asked to. */
  crashed(): WorkerProc[] {
    return this.workers.filter((w) => w.crashed);
  }

  /** Gracefully stops every live worker (in parallel). */
  async stopWorkers(timeoutMs = 15_000): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop(timeoutMs)));
  }

  killAllSync(): void {
    for (const w of this.workers) {
      if (w.alive) {
        w.killedOnPurpose = true;
        w.proc.kill('SIGKILL');
      }
    }
    for (const p of this.others) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }

  /** Kills everything left and waits (briefly) for it to be gone. */
  async dispose(): Promise<void> {
    this.killAllSync();
    const waits = [...this.workers.map((w) => w.proc), ...this.others]
      .filter((p) => p.exitCode === null && p.signalCode === null)
      .map((p) => new Promise<void>((r) => { const t = setTimeout(r, 3_000); p.once('exit', () => { clearTimeout(t); r(); }); }));
    await Promise.all(waits);
    allGroups.delete(this);
  }
}
