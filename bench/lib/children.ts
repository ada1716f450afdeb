/**
 * Child processes of the benchmark (producers and workers of every system) and the JSON-lines
 * protocol they speak on stdout.
 *
 * Every child is registered here so that it is killed when the harness exits for any reason,
 * including Ctrl-C; children also exit by themselves when their stdin closes (see the worker
 * scripts), which covers a harness killed with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One line a child printed on stdout: `{"type": "...", ...}`. */
export interface ChildMessage {
  type: string;
  [field: string]: unknown;
}

const live = new Set<ChildProcess>();

/** Kills (SIGKILL) every child still running. Safe to call many times. */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

/** A spawned child that reports JSON lines; `progress` lines only update `count`. */
export class JsonChild {
  readonly proc: ChildProcess;
  /** Jobs this child reported done so far (from `progress` lines). */
  count = 0;
  private readonly received: ChildMessage[] = [];
  private readonly waiters: Array<{ type: string; resolve: (m: ChildMessage) => void }> = [];
  private stderrTail = '';
  private exitInfo: string | null = null;
  private readonly exitWaiters: Array<() => void> = [];

  constructor(readonly label: string, command: string, args: string[], env: Record<string, string>) {
    this.proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    live.add(this.proc);
    this.proc.on('error', (err) => this.onExit(`spawn error: ${err.message}`));
    this.proc.on('exit', (code, signal) => this.onExit(`exited with ${signal ?? `code ${code}`}`));
    this.proc.stdin?.on('error', () => {}); // a child that already exited closes the pipe
    this.proc.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2000);
    });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => this.onLine(line));
  }

  /** Resolves with the first message of `type` (also one already received); rejects on exit or timeout. */
  next(type: string, timeoutMs: number): Promise<ChildMessage> {
    const idx = this.received.findIndex((m) => m.type === type);
    if (idx >= 0) return Promise.resolve(this.received.splice(idx, 1)[0]!);
    if (this.exitInfo) return Promise.reject(this.failure(`${this.exitInfo} before "${type}"`));
    return new Promise((resolve, reject) => {
      const waiter = { type, resolve: (m: ChildMessage) => { cleanup(); resolve(m); } };
      const onExit = () => { cleanup(); reject(this.failure(`${this.exitInfo} before "${type}"`)); };
      const timer = setTimeout(() => { cleanup(); reject(this.failure(`no "${type}" within ${timeoutMs} ms`)); }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        const j = this.exitWaiters.indexOf(onExit);
        if (j >= 0) this.exitWaiters.splice(j, 1);
      };
      this.waiters.push(waiter);
      this.exitWaiters.push(onExit);
    });
  }

  /** Writes one command line (e.g. "stop") to the child's stdin. */
  send(line: string): void {
    if (this.exitInfo === null) this.proc.stdin?.write(`${line}\n`);
  }

  get exited(): boolean {
    return this.exitInfo !== null;
  }

  /** Waits up to `timeoutMs` for the child to exit, then kills it. */
  async finish(timeoutMs = 5_000): Promise<void> {
    if (this.exitInfo === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.exitWaiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    this.kill();
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    live.delete(this.proc);
  }

  private onLine(line: string): void {
    if (!line.startsWith('{')) return; // a peer's own log lines
    let msg: ChildMessage;
    try {
      msg = JSON.parse(line) as ChildMessage;
    } catch {
      return;
    }
    if (typeof msg.type !== 'string') return;
    if (msg.type === 'progress') {
      this.count = Number(msg.count);
      return;
    }
    const waiter = this.waiters.find((w) => w.type === msg.type);
    if (waiter) waiter.resolve(msg);
    else this.received.push(msg);
  }

  private onExit(info: string): void {
    if (this.exitInfo !== null) return;
    this.exitInfo = info;
    live.delete(this.proc);
    for (const w of [...this.exitWaiters]) w();
  }

  private failure(what: string): Error {
    const tail = this.stderrTail.trim().split('\n').slice(-8).join('\n');
    return new Error(`${this.label}: ${what}${tail ? `\n--- stderr tail ---\n${tail}` : ''}`);
  }
}
