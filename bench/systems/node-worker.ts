/**
 * Worker process body for a Node system, bundled with the system's driver by node.ts.
 *
 * Runs one worker through the driver and speaks the worker protocol of types.ts. The per-job
 * bookkeeping is a counter and a clock read, the same for every Node system.
 */
import { readFileSync } from 'node:fs';
import type { NodeDriver } from './types.js';

export async function runWorker(driver: NodeDriver): Promise<void> {
  const url = process.env.REDIS_URL!;
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 10);
  const latencyMode = process.env.BENCH_MODE === 'latency';

  const now = () => performance.timeOrigin + performance.now();
  const emit = (msg: object) => process.stdout.write(`${JSON.stringify(msg)}\n`);

  let count = 0;
  let firstStartMs = 0;
  let lastFinishMs = 0;
  const latencies: number[] = [];

  const cpu0 = process.cpuUsage();
  let cpuAtLastJob = 0;
  let reported = 0;
  const cpuSince0 = () => {
    const d = process.cpuUsage(cpu0);
    return d.user + d.system;
  };

  const worker = await driver.startWorker(url, {
    concurrency,
    onStart(args) {
      const t = now();
      if (firstStartMs === 0) firstStartMs = t;
      if (latencyMode) latencies.push(t - Number(args[0]));
    },
    onDone() {
      count++;
      lastFinishMs = now();
    },
  });
  emit({ type: 'ready', pid: process.pid });

  // CPU is sampled when the count moved, so idle time after the last job is (nearly) excluded.
  const ticker = setInterval(() => {
    if (count === reported) return;
    reported = count;
    cpuAtLastJob = cpuSince0();
    emit({ type: 'progress', count });
  }, 50);

  function peakRssKb(): number {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : 0;
  }

  function quantile(sorted: number[], q: number): number {
    if (sorted.length === 0) return 0;
    return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  }

  function report(): void {
    clearInterval(ticker);
    if (count !== reported) cpuAtLastJob = cpuSince0();
    const sorted = latencies.sort((a, b) => a - b);
    emit({
      type: 'report',
      count,
      firstStartMs,
      lastFinishMs,
      cpuUs: cpuAtLastJob,
      hwmKb: peakRssKb(),
      ...(latencyMode
        ? { latency: { n: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? 0 } }
        : {}),
    });
  }

  let stopping = false;
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    if (stopping || !chunk.includes('stop')) return;
    stopping = true;
    report();
    // The figures are out; a graceful stop would only add time, and the harness FLUSHALLs next.
    void Promise.race([worker.stop(), new Promise((r) => setTimeout(r, 1_000))]).finally(() => process.exit(0));
  });
  process.stdin.on('end', () => process.exit(0));
}
