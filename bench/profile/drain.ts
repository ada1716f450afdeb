/**
 * Profiling helper (not part of `npm run bench`): drains N no-op jobs with ONE kiqgate Worker
 * in this process, on a private redis-server, and prints jobs/s, client CPU µs/job, Redis CPU
 * µs/job and the Redis command stats of the drain. Run it bundled, so a profile shows the
 * engine and not a TypeScript loader:
 *
 *   npx tsx bench/profile/build.ts                     # bundles to bench/.build/profile-drain.mjs
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/.build/profile-drain.mjs 100000 50
 *   node bench/.build/profile-drain.mjs 3000 1 latency # 1,000 jobs/s to an idle worker: p50/p99
 *   PROF_OUT=/tmp/drain.cpuprofile node bench/.build/profile-drain.mjs  # profiles the drain only
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { getHeapSpaceStatistics } from 'node:v8';
import { Redis } from 'ioredis';
import { Client } from '../../src/client/index.js';
import { Worker } from '../../src/engine/index.js';
import { startRedisServer } from '../../src/support/redis-server.js';

const n = Number(process.argv[2] ?? 100_000);
const concurrency = Number(process.argv[3] ?? 50);
const mode = process.argv[4] ?? 'drain';
const now = () => performance.timeOrigin + performance.now();

function redisCpuUs(info: string): number {
  const m = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (m('used_cpu_sys') + m('used_cpu_user')) * 1e6;
}

const server = await startRedisServer();
const admin = new Redis(server.url);
const client = new Client({ redis: server.url });
try {
  let done = 0;
  let first = 0;
  let last = 0;
  const lat: number[] = [];
  let finished!: () => void;
  const allDone = new Promise<void>((r) => { finished = r; });
  const worker = new Worker({
    redis: server.url,
    queues: { bench: concurrency },
    jobLogLevels: { done: 'debug' }, // no per-job line: it would be most of what is profiled
    handlers: new Map([['NoopJob', async (args: unknown[]) => {
      const t = now();
      if (first === 0) first = t;
      if (mode === 'latency') lat.push(t - Number(args[0]));
      last = now();
      if (++done === n) finished();
    }]]),
  });
  if (mode === 'drain') {
    for (let i = 0; i < n; i += 1000) {
      await client.enqueueBulk(Array.from({ length: Math.min(1000, n - i) }, () => ({ class: 'NoopJob', args: [now()], queue: 'bench' })));
    }
  }
  await worker.start();
  const session = process.env.PROF_OUT ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  }
  await admin.config('RESETSTAT');
  const cpu0 = process.cpuUsage();
  const r0 = redisCpuUs(await admin.info('cpu'));
  if (mode === 'latency') {
    await new Promise((r) => setTimeout(r, 300));
    const t0 = now();
    for (let i = 0; i < n; i++) {
      const due = t0 + i;
      const wait = due - now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      void client.enqueue({ class: 'NoopJob', args: [now()], queue: 'bench' });
    }
  }
  await allDone;
  const cpu = process.cpuUsage(cpu0);
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(process.env.PROF_OUT!, JSON.stringify(profile));
    session.disconnect();
  }
  const r1 = redisCpuUs(await admin.info('cpu'));
  const stats = await admin.info('commandstats');
  await worker.stop();
  const secs = (last - first) / 1000;
  console.log(JSON.stringify({ n, concurrency, mode, jobsPerSec: Math.round(n / secs), clientCpuUsPerJob: +((cpu.user + cpu.system) / n).toFixed(1), redisCpuUsPerJob: +((r1 - r0) / n).toFixed(2), rssMb: Math.round(process.memoryUsage().rss / 1e6) }));
  // Where the RSS is: V8's spaces (new_space is the young generation, grown under load), MB.
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, Math.round(s.space_size / 1e6)]));
  console.log(JSON.stringify({ heapSpacesMb: spaces, externalMb: Math.round(process.memoryUsage().external / 1e6) }));
  if (mode === 'latency') {
    lat.sort((a, b) => a - b);
    const q = (p: number) => lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)]!.toFixed(2);
    console.log(`latency ms p50 ${q(0.5)} p99 ${q(0.99)} max ${lat.at(-1)!.toFixed(2)}`);
  }
  console.log(stats.split('\n').filter((l) => l.startsWith('cmdstat_')).join('\n'));
} finally {
  await client.close();
  admin.disconnect();
  await server.stop();
}
