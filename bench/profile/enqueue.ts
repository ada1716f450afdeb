/**
 * Profiling helper: enqueues N jobs one at a time (each awaited) with the public Client on a
 * private redis-server and prints jobs/s and client CPU µs/job; a bare LPUSH loop beside it.
 *   npx tsx bench/profile/build.ts && PROF_OUT=/tmp/enq.cpuprofile node bench/.build/profile-enqueue.mjs 20000
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Redis } from 'ioredis';
import { Client } from '../../src/client/index.js';
import { startRedisServer } from '../../src/support/redis-server.js';

const n = Number(process.argv[2] ?? 20_000);
const server = await startRedisServer();
const client = new Client({ redis: server.url });
const bare = new Redis(server.url);
try {
  await client.enqueue({ class: 'NoopJob', args: [0], queue: 'bench' }); // connect, warm up
  await bare.ping();
  const session = process.env.PROF_OUT ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  }
  for (const [name, one] of [
    ['kiqgate', () => client.enqueue({ class: 'NoopJob', args: [Date.now()], queue: 'bench' })],
    ['bare lpush', () => bare.lpush('queue:bare', JSON.stringify({ class: 'NoopJob', args: [Date.now()], queue: 'bench', jid: 'x' }))],
    ['kiqgate bulk(1000) per job', () => client.enqueueBulk(Array.from({ length: 1000 }, () => ({ class: 'NoopJob', args: [Date.now()], queue: 'bench' })))],
  ] as const) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const per = name.includes('bulk') ? 1000 : 1;
    for (let i = 0; i < n; i += per) await one();
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    console.log(`${name}: ${Math.round(n / secs)} jobs/s, ${((cpu.user + cpu.system) / n).toFixed(1)} us CPU/job`);
  }
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(process.env.PROF_OUT!, JSON.stringify(profile));
  }
} finally {
  await client.close();
  bare.disconnect();
  await server.stop();
}
