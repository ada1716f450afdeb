/**
 * Builds the harness side of a Node system from its driver file.
 *
 * Producer and worker scripts are bundled with the driver into plain JavaScript (esbuild, the
 * compiler tsup uses; packages stay external) and run with bare `node`, as users run a built
 * package: a TypeScript loader in the worker would add a loader thread and ~30 MB of RSS.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { JsonChild } from '../lib/children.js';
import type { BenchSystem } from './types.js';
import type { Workload } from '../lib/args.js';
import { QUEUE } from './types.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const buildDir = fileURLToPath(new URL('../.build/', import.meta.url));

/** Bundles `import { driver } from <driver>; await <run>(driver)` into bench/.build/<name>.mjs. */
function bundle(name: string, driverFile: string, script: string, run: string): string {
  const outfile = `${buildDir}${name}.mjs`;
  mkdirSync(buildDir, { recursive: true });
  buildSync({
    stdin: {
      contents: `import { driver } from ${JSON.stringify(driverFile)};\nimport { ${run} } from ${JSON.stringify(here(script))};\nawait ${run}(driver);\n`,
      resolveDir: here('.'),
      loader: 'ts',
    },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

export function nodeSystem(opts: {
  name: string;
  /** Driver file name next to this one, e.g. "bullmq-driver.ts". */
  driver: string;
  drainConcurrencies: readonly number[];
  workloads?: readonly Workload[];
  available(): Promise<string | null>;
  version(): Promise<string>;
}): BenchSystem {
  const driverFile = here(opts.driver);
  const built = new Map<string, string>();
  // Built on first use (once per harness run), so an unavailable system is never compiled.
  const script = (kind: 'worker' | 'producer') => {
    let file = built.get(kind);
    if (!file) {
      file = kind === 'worker'
        ? bundle(`${opts.name}-worker`, driverFile, 'node-worker.ts', 'runWorker')
        : bundle(`${opts.name}-producer`, driverFile, 'node-producer.ts', 'runProducer');
      built.set(kind, file);
    }
    return file;
  };
  return {
    name: opts.name,
    runtime: 'node',
    drainConcurrencies: opts.drainConcurrencies,
    ...(opts.workloads ? { workloads: opts.workloads } : {}),
    available: opts.available,
    version: opts.version,
    spawnProducer: (url, spec) =>
      new JsonChild(`${opts.name} producer (${spec.mode})`, process.execPath, [script('producer')], {
        REDIS_URL: url,
        BENCH_QUEUE: QUEUE,
        BENCH_MODE: spec.mode,
        BENCH_N: String(spec.n),
        BENCH_BATCH: String(spec.batch ?? 1000),
        BENCH_RATE: String(spec.rate ?? 1000),
      }),
    spawnWorker: (url, spec) =>
      new JsonChild(`${opts.name} worker (c${spec.concurrency})`, process.execPath, [...(spec.nodeFlags ?? []), script('worker')], {
        REDIS_URL: url,
        BENCH_QUEUE: QUEUE,
        BENCH_MODE: spec.mode,
        BENCH_CONCURRENCY: String(spec.concurrency),
      }),
  };
}
