/**
 * Worker process body for a Node system, bundled with the system's driver by node.ts.
 *
 * Prepares one worker through the driver (connected, not fetching), says "ready", starts it
 * on "go" so that several processes begin together, and after "stop" prints its report (see
 * the protocol in types.ts). The per-job bookkeeping is a counter and a clock read, the same
 * for every Node system.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { getHeapSpaceStatistics } from 'node:v8';
import type { NodeDriver } from './types.js';

const now = () => performance.timeOrigin + performance.now();
const emit = (msg: object) => process.stdout.write(`${JSON.stringify(msg)}\n`);

function peakRssKb(): number {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 0;
}

function memoryMb(): Record<string, number> {
  const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, mb(s.space_size)]));
  // Resident pages now, split: anonymous (heaps, malloc, stacks) and file-backed (mostly the
  // node binary's own code and data, the same in every Node process).
  const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
  return { ...spaces, external: mb(process.memoryUsage().external), rssAnon: mb(kb('Anonymous') * 1024), rssFile: mb((kb('Rss') - kb('Anonymous')) * 1024) };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

export async function runWorker(driver: NodeDriver): Promise<void> {
  const latencyMode = process.env.BENCH_MODE === 'latency';
  let count = 0;
  let firstStartMs = 0;
  let lastFinishMs = 0;
  const latencies: number[] = [];

  const worker = await driver.prepareWorker(process.env.REDIS_URL!, {
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 10),
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

  const cpu0 = process.cpuUsage();
  const cpuSince0 = () => {
    const d = process.cpuUsage(cpu0);
    return d.user + d.system;
  };
  let cpuAtLastJob = 0;
  let reported = 0;
  // CPU is sampled when the count moved, so idle time after the last job is (nearly) excluded.
  const ticker = setInterval(() => {
    if (count === reported) return;
    reported = count;
    cpuAtLastJob = cpuSince0();
    emit({ type: 'progress', count });
  }, 50);

  const report = () => {
    clearInterval(ticker);
    if (count !== reported) cpuAtLastJob = cpuSince0();
    const sorted = latencies.sort((a, b) => a - b);
    const latency = { n: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? 0 };
    emit({ type: 'report', count, firstStartMs, lastFinishMs, cpuUs: cpuAtLastJob, hwmKb: peakRssKb(), memoryMb: memoryMb(), ...(latencyMode ? { latency } : {}) });
  };

  let state: 'ready' | 'running' | 'stopping' = 'ready';
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      if (line === 'go' && state === 'ready') {
        state = 'running';
        worker.start().catch((err: unknown) => {
          process.stderr.write(`worker failed: ${String(err)}\n`);
          process.exit(1);
        });
      } else if (line === 'stop' && state !== 'stopping') {
        state = 'stopping';
        report();
        // The figures are out; a graceful stop would only add time, and the harness FLUSHALLs next.
        void Promise.race([worker.stop(), new Promise((r) => setTimeout(r, 1_000))]).finally(() => process.exit(0));
      }
    })
    .on('close', () => process.exit(0));
  emit({ type: 'ready', pid: process.pid });
}
