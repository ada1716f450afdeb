/**
 * Builds the harness side of a Node system from its driver file: every producer and worker
 * runs as `node --import tsx` so that all Node systems carry the same loader overhead.
 */
import { fileURLToPath } from 'node:url';
import { JsonChild } from '../lib/children.js';
import type { BenchSystem } from './types.js';
import { QUEUE } from './types.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

export function nodeSystem(opts: {
  name: string;
  /** Driver file name next to this one, e.g. "bullmq-driver.ts". */
  driver: string;
  drainConcurrencies: readonly number[];
  available(): Promise<string | null>;
  version(): Promise<string>;
}): BenchSystem {
  const driverFile = here(opts.driver);
  const node = (script: string, label: string, env: Record<string, string>) =>
    new JsonChild(`${opts.name} ${label}`, process.execPath, ['--import', 'tsx', here(script), driverFile], env);
  return {
    name: opts.name,
    drainConcurrencies: opts.drainConcurrencies,
    available: opts.available,
    version: opts.version,
    spawnProducer: (url, spec) =>
      node('node-producer.ts', `producer (${spec.mode})`, {
        REDIS_URL: url,
        BENCH_QUEUE: QUEUE,
        BENCH_MODE: spec.mode,
        BENCH_N: String(spec.n),
        BENCH_BATCH: String(spec.batch ?? 1000),
        BENCH_RATE: String(spec.rate ?? 1000),
      }),
    spawnWorker: (url, spec) =>
      node('node-worker.ts', `worker (c${spec.concurrency})`, {
        REDIS_URL: url,
        BENCH_QUEUE: QUEUE,
        BENCH_MODE: spec.mode,
        BENCH_CONCURRENCY: String(spec.concurrency),
      }),
  };
}
