/**
 * One run of one workload case for one system, on a Redis the harness FLUSHALLs first.
 *
 * Every run has a deadline: whatever is still waited on when it passes fails the run, and
 * every process the run spawned is killed when it ends, whether it succeeded or not.
 */
import type { Redis } from 'ioredis';
import type { JsonChild } from './children.js';
import { cpuTicks, stealPct } from './machine.js';
import { redisCpuUs, redisUsedMemory } from './redis-info.js';
import type { BenchSystem, ProducerReport, ProducerSpec, WorkerReport } from '../systems/types.js';

export interface RunContext {
  redisUrl: string;
  admin: Redis;
  deadline: number;
}

export type Metrics = Record<string, number>;

/** What a run returns: the figures for the table and the raw process reports for the file. */
export interface RunOutcome {
  metrics: Metrics;
  raw: unknown;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const left = (ctx: RunContext) => Math.max(1, ctx.deadline - Date.now());

async function withChildren<T>(body: (spawned: JsonChild[]) => Promise<T>): Promise<T> {
  const spawned: JsonChild[] = [];
  try {
    return await body(spawned);
  } finally {
    for (const child of spawned) child.kill();
  }
}

async function produce(ctx: RunContext, system: BenchSystem, spec: ProducerSpec, spawned: JsonChild[]): Promise<ProducerReport> {
  const producer = system.spawnProducer(ctx.redisUrl, spec);
  spawned.push(producer);
  const report = (await producer.next('report', left(ctx))) as unknown as ProducerReport;
  await producer.finish(2_000);
  return report;
}

/** Waits until the workers together report `expected` jobs done. */
async function waitForCount(ctx: RunContext, workers: JsonChild[], expected: number): Promise<void> {
  for (;;) {
    const done = workers.reduce((sum, w) => sum + w.count, 0);
    if (done >= expected) return;
    const dead = workers.find((w) => w.exited);
    if (dead) throw new Error(`${dead.label} exited after ${done} of ${expected} jobs`);
    if (Date.now() > ctx.deadline) throw new Error(`deadline passed after ${done} of ${expected} jobs`);
    await sleep(10);
  }
}

async function stopWorkers(workers: JsonChild[]): Promise<WorkerReport[]> {
  for (const w of workers) w.send('stop');
  const reports = await Promise.all(workers.map((w) => w.next('report', 10_000)));
  await Promise.all(workers.map((w) => w.finish(3_000)));
  return reports as unknown as WorkerReport[];
}

/**
 * drain (and cost, scale): N jobs queued in bulk, then `processes` workers at `concurrency`
 * drain them. Throughput is N over the time from the first job started to the last finished.
 * `nodeFlags` go on a Node worker's command line.
 */
export function drainRun(ctx: RunContext, system: BenchSystem, n: number, concurrency: number, processes: number, nodeFlags?: readonly string[]): Promise<RunOutcome> {
  return withChildren(async (spawned) => {
    await ctx.admin.flushall();
    const mem0 = await redisUsedMemory(ctx.admin);
    const enqueue = await produce(ctx, system, { mode: 'bulk', n, batch: 1000 }, spawned);
    const mem1 = await redisUsedMemory(ctx.admin);

    const workers = Array.from({ length: processes }, () => system.spawnWorker(ctx.redisUrl, { concurrency, mode: 'drain', nodeFlags }));
    spawned.push(...workers);
    await Promise.all(workers.map((w) => w.next('ready', left(ctx))));
    const cpu0 = await redisCpuUs(ctx.admin);
    const ticks0 = cpuTicks();
    for (const w of workers) w.send('go');
    await waitForCount(ctx, workers, n);
    const cpu1 = await redisCpuUs(ctx.admin);
    const steal = stealPct(ticks0, cpuTicks());
    const reports = await stopWorkers(workers);

    const jobs = reports.reduce((s, r) => s + r.count, 0);
    // More done than enqueued means some ran twice: a figure counting them would be flattered.
    if (jobs !== n) throw new Error(`${jobs} jobs done for ${n} enqueued (${jobs - n} ran twice)`);
    const first = Math.min(...reports.filter((r) => r.count > 0).map((r) => r.firstStartMs));
    const last = Math.max(...reports.map((r) => r.lastFinishMs));
    return {
      metrics: {
        jobsPerSec: (jobs / (last - first)) * 1000,
        drainMs: last - first,
        jobs,
        workerCpuUsPerJob: reports.reduce((s, r) => s + r.cpuUs, 0) / jobs,
        redisCpuUsPerJob: (cpu1 - cpu0) / jobs,
        peakRssMb: Math.max(...reports.map((r) => r.hwmKb)) / 1024,
        redisBytesPerJob: (mem1 - mem0) / n,
        bulkEnqueuePerSec: (enqueue.jobs / enqueue.elapsedMs) * 1000,
        stealPct: steal,
      },
      raw: { enqueue, workers: reports, redisCpuUs: cpu1 - cpu0, usedMemoryDelta: mem1 - mem0 },
    };
  });
}

/** enqueue: N jobs one at a time (each awaited) or in bulk batches of 1,000; nothing consumes them. */
export function enqueueRun(ctx: RunContext, system: BenchSystem, n: number, mode: 'one' | 'bulk'): Promise<RunOutcome> {
  return withChildren(async (spawned) => {
    await ctx.admin.flushall();
    const report = await produce(ctx, system, { mode, n, batch: 1000 }, spawned);
    return {
      metrics: { jobsPerSec: (report.jobs / report.elapsedMs) * 1000, clientCpuUsPerJob: report.cpuUs / report.jobs },
      raw: report,
    };
  });
}

/** latency: one idle worker (concurrency 10) waits; jobs arrive at a fixed rate; enqueue-to-start. */
export function latencyRun(ctx: RunContext, system: BenchSystem, rate: number, seconds: number): Promise<RunOutcome> {
  return withChildren(async (spawned) => {
    await ctx.admin.flushall();
    const worker = system.spawnWorker(ctx.redisUrl, { concurrency: 10, mode: 'latency' });
    spawned.push(worker);
    await worker.next('ready', left(ctx));
    worker.send('go');
    await sleep(500); // let it settle into its idle wait
    const n = Math.round(rate * seconds);
    const ticks0 = cpuTicks();
    const producer = await produce(ctx, system, { mode: 'rate', n, rate }, spawned);
    await waitForCount(ctx, [worker], n);
    const steal = stealPct(ticks0, cpuTicks());
    const [report] = await stopWorkers([worker]);
    const lat = report!.latency ?? { n: 0, p50: NaN, p99: NaN, max: NaN };
    return {
      metrics: { p50Ms: lat.p50, p99Ms: lat.p99, maxMs: lat.max, achievedRate: (producer.jobs / producer.elapsedMs) * 1000, stealPct: steal },
      raw: { producer, worker: report },
    };
  });
}
