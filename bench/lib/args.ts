/** Command-line options of `npm run bench`. */

export const WORKLOADS = ['drain', 'enqueue', 'latency', 'cost', 'scale'] as const;
export type Workload = (typeof WORKLOADS)[number];
export const SYSTEMS = ['kiqgate', 'kiqgate-metrics', 'bullmq', 'sidekiq', 'bare'] as const;

export interface Sizes {
  rounds: number;
  /** Jobs per drain (also per scale run). */
  drainJobs: number;
  /** Jobs of the one-at-a-time enqueue. */
  enqueueOneJobs: number;
  /** Jobs of the bulk enqueue (batches of 1,000). */
  enqueueBulkJobs: number;
  latencySeconds: number;
  latencyRate: number;
  /** A run (one system, one case) that takes longer is reported as failed and its processes killed. */
  runDeadlineMs: number;
}

export interface Options {
  quick: boolean;
  only: Workload[];
  systems: string[];
  sizes: Sizes;
  /** `--only`, `--systems` or `--rounds` narrowed the run: not the full table the README quotes. */
  partial: boolean;
}

const FULL: Sizes = { rounds: 3, drainJobs: 100_000, enqueueOneJobs: 20_000, enqueueBulkJobs: 100_000, latencySeconds: 10, latencyRate: 1000, runDeadlineMs: 5 * 60_000 };
const QUICK: Sizes = { rounds: 1, drainJobs: 20_000, enqueueOneJobs: 5_000, enqueueBulkJobs: 20_000, latencySeconds: 3, latencyRate: 1000, runDeadlineMs: 2 * 60_000 };

const USAGE = `usage: npm run bench [-- --quick] [--only ${WORKLOADS.join(',')}] [--systems ${SYSTEMS.join(',')}] [--rounds n]`;

export function parseArgs(argv: string[]): Options {
  let quick = false;
  let only: Workload[] = [...WORKLOADS];
  let systems: string[] = [...SYSTEMS];
  let rounds: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? fail(`${flag} needs a value`);
    if (flag === '--quick') quick = true;
    else if (flag === '--only') only = list(value(), WORKLOADS) as Workload[];
    else if (flag === '--systems') systems = list(value(), SYSTEMS);
    else if (flag === '--rounds') rounds = Number(value());
    else if (flag === '--help' || flag === '-h') fail(USAGE, 0);
    else fail(`unknown option ${flag}\n${USAGE}`);
  }
  const sizes = { ...(quick ? QUICK : FULL) };
  if (rounds !== undefined) {
    if (!(rounds >= 1)) fail('--rounds must be at least 1');
    sizes.rounds = rounds;
  }
  const partial = only.length !== WORKLOADS.length || systems.length !== SYSTEMS.length || rounds !== undefined;
  return { quick, only, systems, sizes, partial };
}

function list(value: string, allowed: readonly string[]): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) if (!allowed.includes(item)) fail(`unknown "${item}"; one of ${allowed.join(', ')}`);
  return items;
}

function fail(message: string, code = 2): never {
  (code === 0 ? console.log : console.error)(message);
  process.exit(code);
}
