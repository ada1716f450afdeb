/**
 * Producer process body for a Node system, bundled with the system's driver by node.ts.
 *
 * Enqueues BENCH_N jobs one at a time (each awaited), in bulk (BENCH_BATCH per call), or at a
 * fixed BENCH_RATE per second (not awaited one by one, so a slow reply does not slow the pace),
 * and prints one report line: jobs, elapsed ms, process CPU µs.
 */
import type { NodeDriver, Producer } from './types.js';

const mode = process.env.BENCH_MODE ?? 'one';
const n = Number(process.env.BENCH_N ?? 1000);
const batch = Number(process.env.BENCH_BATCH ?? 1000);
const rate = Number(process.env.BENCH_RATE ?? 1000);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function one(p: Producer): Promise<void> {
  for (let i = 0; i < n; i++) await p.enqueueOne([now()]);
}

async function bulk(p: Producer): Promise<void> {
  for (let sent = 0; sent < n; sent += batch) {
    const size = Math.min(batch, n - sent);
    const at = now();
    await p.enqueueBulk(Array.from({ length: size }, () => [at]));
  }
}

async function paced(p: Producer): Promise<void> {
  const t0 = now();
  const pending: Promise<void>[] = [];
  let sent = 0;
  while (sent < n) {
    const due = Math.min(n, Math.floor(((now() - t0) * rate) / 1000) + 1);
    while (sent < due) {
      pending.push(p.enqueueOne([now()]));
      sent++;
    }
    await sleep(1);
  }
  await Promise.all(pending);
}

export async function runProducer(driver: NodeDriver): Promise<void> {
  const producer = await driver.openProducer(process.env.REDIS_URL!);
  const cpu0 = process.cpuUsage();
  const t0 = now();
  await (mode === 'bulk' ? bulk(producer) : mode === 'rate' ? paced(producer) : one(producer));
  const elapsedMs = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(`${JSON.stringify({ type: 'report', jobs: n, elapsedMs, cpuUs: cpu.user + cpu.system })}\n`);
  await Promise.race([producer.close(), sleep(1_000)]);
  process.exit(0);
}
