/**
 * What every chaos scenario shares: its context and result types, the run-log reader (the
 * record of which jids ran, how often and when), the tally of lost and duplicated jobs, and
 * small timing helpers.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { Client } from '../../../src/client/index.js';
import { baseOptions } from '../../../src/support/connection.js';
import type { ProcessGroup } from './children.js';

export interface ScenarioContext {
  quick: boolean;
  /** A directory of this scenario's own (run logs, worker logs, Redis data). */
  dir: string;
  group: ProcessGroup;
  /** Prints one figure line (indented under the scenario's title) and keeps it for the summary. */
  say(line: string): void;
}

export interface ScenarioResult {
  pass: boolean;
  /** The figures, as written to the results JSON. */
  figures: Record<string, unknown>;
  /** Why it failed (empty when it passed). */
  failures: string[];
  /** A one-line digest for the summary table. */
  summary: string;
}

export interface Scenario {
  name: string;
  title: string;
  /** Hard bound on the scenario's duration (ms), quick and full. */
  timeoutMs: { quick: number; full: number };
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until truthy; resolves false at the deadline. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export const fmtMs = (ms: number) => (Number.isFinite(ms) ? `${Math.round(ms)} ms` : 'n/a');

export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** One line of a worker's run log. */
export interface RunRecord { jid: string; atMs: number; node: string }

/** Every run recorded in `<dir>/runs-*.log` (all worker processes of a scenario). */
export function readRuns(dir: string): RunRecord[] {
  const out: RunRecord[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.startsWith('runs-') || !f.endsWith('.log')) continue;
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const [jid, at, node] = line.split(' ');
      if (jid && at) out.push({ jid, atMs: Number(at), node: node ?? '' });
    }
  }
  return out;
}

/** jid → number of runs. */
export function runCounts(runs: RunRecord[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of runs) m.set(r.jid, (m.get(r.jid) ?? 0) + 1);
  return m;
}

/** Lost (expected, never ran), duplicated (ran more than once), and the extra runs. */
export function tally(expected: Iterable<string>, counts: Map<string, number>): { expected: number; lost: string[]; duplicated: string[]; extraRuns: number } {
  const lost: string[] = [];
  const duplicated: string[] = [];
  let extraRuns = 0;
  let n = 0;
  for (const jid of expected) {
    n++;
    const c = counts.get(jid) ?? 0;
    if (c === 0) lost.push(jid);
    else if (c > 1) { duplicated.push(jid); extraRuns += c - 1; }
  }
  return { expected: n, lost, duplicated, extraRuns };
}

/** Counts worker log lines at warn or above, by message (for diagnostics in the results). */
export function logProblems(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of readdirSync(dir)) {
    if (!f.startsWith('worker-') || !f.endsWith('.log')) continue;
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const rec = JSON.parse(line) as { level?: number; msg?: string };
        if ((rec.level ?? 0) >= 40) out[rec.msg ?? '?'] = (out[rec.msg ?? '?'] ?? 0) + 1;
      } catch { /* a line cut by SIGKILL */ }
    }
  }
  return out;
}

/** A dead-node recovery a worker logged (VerkNodes: "recovered the in-progress jobs of a dead node"). */
export interface RecoveryEvent { atMs: number; deadNode: string; moved: number; log: string }

export function recoveryEvents(dir: string): RecoveryEvent[] {
  const out: RecoveryEvent[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.startsWith('worker-') || !f.endsWith('.log')) continue;
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (!line.includes('dead node')) continue;
      try {
        const rec = JSON.parse(line) as { time: number; deadNode?: string; moved?: number; recoveredAt?: number };
        if (rec.deadNode) out.push({ atMs: rec.recoveredAt ?? rec.time, deadNode: rec.deadNode, moved: rec.moved ?? 0, log: f });
      } catch { /* a line cut by SIGKILL */ }
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

/**
 * Recoveries of nodes that were alive at the time (not killed yet, or never): a peer took the
 * node for dead because its heartbeat key expired (a stall longer than 2 heartbeats).
 */
export function falseDeaths(events: RecoveryEvent[], killedAt: Map<string, number>): RecoveryEvent[] {
  return events.filter((e) => {
    const k = killedAt.get(e.deadNode);
    return k === undefined || e.atMs < k;
  });
}

/** Sum of the lengths of every `inprogress:<queue>:*` list, and the nodes holding jobs. */
export async function inProgressNow(redis: Redis, queue: string): Promise<{ total: number; byNode: Record<string, number> }> {
  const keys = await redis.keys(`inprogress:${queue}:*`);
  const byNode: Record<string, number> = {};
  let total = 0;
  for (const k of keys) {
    const n = await redis.llen(k);
    if (n > 0) byNode[k.slice(`inprogress:${queue}:`.length)] = n;
    total += n;
  }
  return { total, byNode };
}

/**
 * A producer enqueuing ChaosJob at a steady rate through kiqgate's Client (its own connection,
 * reconnecting by itself). `acked` holds the jids whose LPUSH Redis answered, with when the call
 * was sent and when its answer came.
 */
export class SteadyProducer {
  readonly acked = new Map<string, { sentAt: number; ackedAt: number }>();
  errors = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  readonly client: Client;

  constructor(redis: string | object, private readonly opts: { ratePerSec: number; batch?: number; sleepMs: () => number; queue?: string }) {
    // Our own connection (kiqgate's options) so that we can listen for its errors: a Client
    // that opens its own connection attaches no 'error' listener, and ioredis then prints
    // "Unhandled error event" for every failed reconnect.
    this.connection = typeof redis === 'string' ? new Redis(redis, baseOptions()) : new Redis(baseOptions(redis as RedisOptions));
    this.connection.on('error', () => { this.connectionErrors++; });
    this.client = new Client({ redis: this.connection, peer: 'sidekiq7' });
  }

  readonly connection: Redis;
  connectionErrors = 0;

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  async close(): Promise<void> {
    await this.stop();
    await this.client.close();
    this.connection.disconnect();
  }

  private async run(): Promise<void> {
    const batch = this.opts.batch ?? 5;
    const periodMs = (1000 * batch) / this.opts.ratePerSec;
    let next = Date.now();
    while (this.running) {
      try {
        const sentAt = Date.now();
        const jids = await this.client.enqueueBulk(Array.from({ length: batch }, () => ({
          class: 'ChaosJob', args: [this.opts.sleepMs()], queue: this.opts.queue ?? 'chaos',
        })));
        const ackedAt = Date.now();
        for (const j of jids) this.acked.set(j, { sentAt, ackedAt });
      } catch {
        this.errors++;
      }
      next += periodMs;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      else next = Date.now();
    }
  }
}

/** A uniform random sleep in [0, 2·avg) ms. */
export function jitterSleep(avgMs: number): () => number {
  return () => Math.floor(Math.random() * 2 * avgMs);
}
