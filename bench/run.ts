/**
 * `npm run bench`: kiqgate side by side with BullMQ, Sidekiq and a bare ioredis baseline.
 *
 * Starts a private redis-server (loopback, free port, no persistence), then runs every
 * workload case for every available system, system after system within a case and over
 * several rounds (the system order rotates each round) so that machine drift hits all alike.
 * Prints medians with min–max and kiqgate's ratio to each peer; writes the raw records to
 * bench/results/<date>[-quick][-partial][-n].json, never over an earlier file. See
 * bench/README.md for what each figure means.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServerHandle } from '../src/support/redis-server.js';
import { parseArgs, type Options, type Workload } from './lib/args.js';
import { killAllChildren } from './lib/children.js';
import { machineInfo } from './lib/machine.js';
import { redisVersion } from './lib/redis-info.js';
import { renderTable, summarize, type Column, type RowSpec, type RunRecord } from './lib/table.js';
import { drainRun, enqueueRun, latencyRun, type RunContext, type RunOutcome } from './lib/workloads.js';
import { bare } from './systems/bare.js';
import { bullmq } from './systems/bullmq.js';
import { kiqgate } from './systems/kiqgate.js';
import { kiqgateMetrics } from './systems/kiqgate-metrics.js';
import { sidekiq } from './systems/sidekiq.js';
import type { BenchSystem } from './systems/types.js';

const ALL: BenchSystem[] = [kiqgate, kiqgateMetrics, bullmq, sidekiq, bare];
const top = (s: BenchSystem) => s.drainConcurrencies.at(-1)!;

/**
 * The cost workload's second case: the top drain again with the V8 setting README's Deployment
 * section gives where worker memory is tight, to every Node worker alike. V8 grows a young
 * generation whose objects survive scavenges, up to the default maximum (16 MB semi-spaces,
 * 34 MB committed: BullMQ's and the bare consumer's workers reach it within a second of a
 * drain, kiqgate's stays at 8 MB semi-spaces), and only the command line lowers that maximum.
 */
const CAPPED = { case: 'top-semi2', flags: ['--max-semi-space-size=2'], label: 'node --max-semi-space-size=2' } as const;

/** One workload case; `alsoAs` files the same outcome under more rows (cost reuses the top drain). */
interface Step {
  workload: Workload;
  case: string;
  appliesTo(s: BenchSystem): boolean;
  run(ctx: RunContext, s: BenchSystem): Promise<RunOutcome>;
  alsoAs?(s: BenchSystem): Array<{ workload: Workload; case: string }>;
}

function plan(opts: Options, systems: BenchSystem[]): { steps: Step[]; rows: RowSpec[] } {
  const { sizes, only } = opts;
  const steps: Step[] = [];
  const rows: RowSpec[] = [];
  const want = (w: Workload) => only.includes(w);
  const row = (workload: Workload, c: string, metric: string, label: string, higherIsBetter: boolean, context = false) =>
    rows.push({ workload, case: c, metric, label, higherIsBetter, context });

  if (want('drain')) {
    const cs = [...new Set(systems.flatMap((s) => s.drainConcurrencies))].sort((a, b) => a - b);
    for (const c of cs) {
      steps.push({
        workload: 'drain',
        case: `c${c}`,
        appliesTo: (s) => s.drainConcurrencies.includes(c),
        run: (ctx, s) => drainRun(ctx, s, sizes.drainJobs, c, 1),
        alsoAs: (s) => (want('cost') && c === top(s) ? [{ workload: 'cost', case: 'top' }] : []),
      });
      row('drain', `c${c}`, 'jobsPerSec', `drain c${c} jobs/s`, true);
    }
  } else if (want('cost')) {
    steps.push({ workload: 'cost', case: 'top', appliesTo: () => true, run: (ctx, s) => drainRun(ctx, s, sizes.drainJobs, top(s), 1) });
  }
  if (want('enqueue')) {
    for (const mode of ['one', 'bulk'] as const) {
      const n = mode === 'one' ? sizes.enqueueOneJobs : sizes.enqueueBulkJobs;
      steps.push({ workload: 'enqueue', case: mode, appliesTo: () => true, run: (ctx, s) => enqueueRun(ctx, s, n, mode) });
    }
    row('enqueue', 'one', 'jobsPerSec', 'enqueue one-by-one jobs/s', true);
    row('enqueue', 'bulk', 'jobsPerSec', 'enqueue bulk(1000) jobs/s', true);
    row('enqueue', 'one', 'clientCpuUsPerJob', 'enqueue one-by-one client CPU µs/job', false);
    row('enqueue', 'bulk', 'clientCpuUsPerJob', 'enqueue bulk client CPU µs/job', false);
  }
  if (want('latency')) {
    steps.push({ workload: 'latency', case: 'c10', appliesTo: () => true, run: (ctx, s) => latencyRun(ctx, s, sizes.latencyRate, sizes.latencySeconds) });
    row('latency', 'c10', 'p50Ms', `latency p50 ms @${sizes.latencyRate}/s`, false);
    row('latency', 'c10', 'p99Ms', `latency p99 ms @${sizes.latencyRate}/s`, false);
    row('latency', 'c10', 'maxMs', `latency max ms @${sizes.latencyRate}/s`, false);
    // The hypervisor's share during the run: what moves the tail most on a shared VM.
    row('latency', 'c10', 'stealPct', '(machine) CPU steal % during latency', false, true);
  }
  if (want('cost')) {
    row('cost', 'top', 'workerCpuUsPerJob', 'cost: worker CPU µs/job (top c)', false);
    row('cost', 'top', 'redisCpuUsPerJob', 'cost: Redis CPU µs/job (top c)', false);
    row('cost', 'top', 'peakRssMb', 'cost: worker peak RSS MB (top c)', false);
    row('cost', 'top', 'redisBytesPerJob', 'cost: Redis bytes/queued job', false);
    steps.push({
      workload: 'cost',
      case: CAPPED.case,
      appliesTo: (s) => s.runtime === 'node',
      run: (ctx, s) => drainRun(ctx, s, sizes.drainJobs, top(s), 1, CAPPED.flags),
    });
    row('cost', CAPPED.case, 'peakRssMb', `cost: worker peak RSS MB (top c, ${CAPPED.label})`, false);
    row('cost', CAPPED.case, 'jobsPerSec', `cost: drain jobs/s (top c, ${CAPPED.label})`, true);
    row('cost', CAPPED.case, 'workerCpuUsPerJob', `cost: worker CPU µs/job (top c, ${CAPPED.label})`, false);
  }
  if (want('scale')) {
    for (const p of [1, 2, 4]) {
      steps.push({ workload: 'scale', case: `p${p}`, appliesTo: () => true, run: (ctx, s) => drainRun(ctx, s, sizes.drainJobs, top(s), p) });
      row('scale', `p${p}`, 'jobsPerSec', `scale ${p} proc × top c jobs/s`, true);
    }
  }
  return { steps, rows };
}

function headline(step: Step, outcome: RunOutcome): string {
  const m = outcome.metrics;
  const f = (x: number | undefined, d = 0) => (x === undefined ? '?' : x.toFixed(d));
  if (step.workload === 'latency') return `p50 ${f(m.p50Ms, 2)} ms, p99 ${f(m.p99Ms, 2)} ms, max ${f(m.maxMs, 2)} ms (CPU steal ${f(m.stealPct, 1)}%)`;
  if (step.workload === 'enqueue') return `${f(m.jobsPerSec)} jobs/s, ${f(m.clientCpuUsPerJob, 1)} µs CPU/job`;
  return `${f(m.jobsPerSec)} jobs/s, worker ${f(m.workerCpuUsPerJob, 1)} µs + Redis ${f(m.redisCpuUsPerJob, 1)} µs CPU/job, RSS ${f(m.peakRssMb)} MB, CPU steal ${f(m.stealPct, 1)}%`;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  let server: RedisServerHandle | undefined;
  const abort = (signal: string) => {
    killAllChildren();
    if (server) {
      server.process.kill('SIGKILL');
      rmSync(server.dir, { recursive: true, force: true });
    }
    console.error(`\nbench: ${signal}, children killed`);
    process.exit(130);
  };
  process.on('SIGINT', () => abort('SIGINT'));
  process.on('SIGTERM', () => abort('SIGTERM'));
  process.on('exit', killAllChildren);

  server = await startRedisServer();
  const admin = new Redis(server.url);
  try {
    const systems = ALL.filter((s) => opts.systems.includes(s.name));
    const columns: Column[] = [];
    const versions: Record<string, string> = {};
    for (const s of systems) {
      const unavailable = await s.available();
      columns.push({ system: s.name, unavailable });
      versions[s.name] = unavailable ?? (await s.version());
    }
    const runnable = systems.filter((s) => columns.find((c) => c.system === s.name)!.unavailable === null);
    const { steps, rows } = plan(opts, systems);
    const machine = machineInfo(await redisVersion(admin));
    console.error(`bench: redis ${machine.redis} on ${server.url}; ${machine.cpuModel}, ${machine.cores} cores`);
    if (machine.nodeOptions) console.error(`bench: NODE_OPTIONS=${machine.nodeOptions} (every Node process inherits it)`);
    for (const c of columns) if (c.unavailable) console.error(`bench: ${c.system}: ${c.unavailable}`);

    const records: RunRecord[] = [];
    for (let round = 1; round <= opts.sizes.rounds; round++) {
      const shift = (round - 1) % Math.max(1, runnable.length);
      const order = [...runnable.slice(shift), ...runnable.slice(0, shift)];
      for (const step of steps) {
        for (const s of order.filter((x) => step.appliesTo(x) && (!x.workloads || x.workloads.includes(step.workload)))) {
          const ctx: RunContext = { redisUrl: server.url, admin, deadline: Date.now() + opts.sizes.runDeadlineMs };
          const tag = `[${round}/${opts.sizes.rounds}] ${step.workload} ${step.case} ${s.name}`;
          try {
            const outcome = await step.run(ctx, s);
            for (const as of [{ workload: step.workload, case: step.case }, ...(step.alsoAs?.(s) ?? [])]) {
              records.push({ round, system: s.name, ...as, metrics: outcome.metrics, raw: outcome.raw });
            }
            console.error(`${tag}: ${headline(step, outcome)}`);
          } catch (err) {
            const error = err instanceof Error ? err.message : String(err);
            records.push({ round, system: s.name, workload: step.workload, case: step.case, error });
            console.error(`${tag}: FAILED ${error}`);
          }
        }
      }
    }

    const elapsedS = (Date.now() - started) / 1000;
    console.log(`\nkiqgate bench${opts.quick ? ' --quick' : ''}: median${opts.sizes.rounds > 1 ? ' (min–max)' : ''} of ${opts.sizes.rounds} round(s), ` +
      `${opts.sizes.drainJobs.toLocaleString('en-US')} jobs per drain, ${elapsedS.toFixed(0)} s\n`);
    console.log(renderTable(records, rows, columns));
    console.log('\n"top c" is the last drain concurrency of each system (50; Sidekiq 25). ↑ higher is better, ↓ lower.');

    const date = new Date().toISOString().slice(0, 10);
    const dir = fileURLToPath(new URL('./results/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    const file = freeResultsFile(dir, `${date}${opts.quick ? '-quick' : ''}${opts.partial ? '-partial' : ''}`);
    const result = {
      date: new Date().toISOString(),
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      quick: opts.quick,
      sizes: opts.sizes,
      machine,
      versions,
      elapsedS,
      summary: summarize(records, rows, columns),
      records,
    };
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`raw results: ${file}`);
  } finally {
    killAllChildren();
    admin.disconnect();
    await server.stop();
  }
}

/** `<base>.json`, or `<base>-2.json`, `-3`, ... if taken: a later run never overwrites an earlier one's data. */
function freeResultsFile(dir: string, base: string): string {
  for (let n = 1; ; n++) {
    const file = `${dir}${base}${n === 1 ? '' : `-${n}`}.json`;
    if (!existsSync(file)) return file;
  }
}

await main();
