/**
 * `npx tsx bench/metrics-overhead.ts [rounds] [jobs]`: the c50 drain with Prometheus metrics off
 * (kiqgate) and on (kiqgate-metrics: served and scraped every second), interleaved round by
 * round (the order alternating), on a private redis-server; prints each run and the medians.
 * A focused form of `npm run bench -- --only drain --systems kiqgate,kiqgate-metrics` that
 * skips the c1 and c10 drains. Nothing is written to bench/results.
 */
import { Redis } from 'ioredis';
import { startRedisServer } from '../src/support/redis-server.js';
import { killAllChildren } from './lib/children.js';
import { drainRun } from './lib/workloads.js';
import { kiqgate } from './systems/kiqgate.js';
import { kiqgateMetrics } from './systems/kiqgate-metrics.js';

const rounds = Number(process.argv[2] ?? 7);
const jobs = Number(process.argv[3] ?? 100_000);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const server = await startRedisServer();
const admin = new Redis(server.url);
const figures: Record<string, { jobsPerSec: number[]; cpu: number[]; rss: number[] }> = {};
try {
  for (let r = 0; r < rounds; r++) {
    for (const s of r % 2 === 0 ? [kiqgate, kiqgateMetrics] : [kiqgateMetrics, kiqgate]) {
      const out = await drainRun({ redisUrl: server.url, admin, deadline: Date.now() + 5 * 60_000 }, s, jobs, 50, 1);
      const f = (figures[s.name] ??= { jobsPerSec: [], cpu: [], rss: [] });
      f.jobsPerSec.push(out.metrics.jobsPerSec!);
      f.cpu.push(out.metrics.workerCpuUsPerJob!);
      f.rss.push(out.metrics.peakRssMb!);
      console.error(`[${r + 1}/${rounds}] ${s.name}: ${out.metrics.jobsPerSec!.toFixed(0)} jobs/s, worker ${out.metrics.workerCpuUsPerJob!.toFixed(1)} µs CPU/job, RSS ${out.metrics.peakRssMb!.toFixed(0)} MB`);
    }
  }
  for (const [name, f] of Object.entries(figures)) {
    console.log(`${name}: median ${median(f.jobsPerSec).toFixed(0)} jobs/s (${Math.min(...f.jobsPerSec).toFixed(0)}–${Math.max(...f.jobsPerSec).toFixed(0)}), worker ${median(f.cpu).toFixed(1)} µs CPU/job, RSS ${median(f.rss).toFixed(0)} MB, ${f.jobsPerSec.length} runs of ${jobs} jobs`);
  }
  const off = median(figures.kiqgate!.jobsPerSec);
  const on = median(figures['kiqgate-metrics']!.jobsPerSec);
  console.log(`metrics on / off: ${((on / off) * 100).toFixed(1)} % of the throughput`);
} finally {
  killAllChildren();
  admin.disconnect();
  await server.stop();
}
