/**
 * The contract every benchmarked system implements.
 *
 * A system has two sides. The harness side (`BenchSystem`) only knows how to spawn that
 * system's producer and worker processes; all timing and counting happens inside those
 * processes, so CPU and RSS are per process and a peer in another language (Sidekiq, Ruby)
 * fits the same mold. Node systems implement the in-process side (`NodeDriver`) and reuse the
 * generic `node-worker.ts` / `node-producer.ts` scripts.
 *
 * Process protocol (JSON lines on stdout; other lines are ignored):
 *   worker:   {"type":"ready"} once connected but not yet fetching; it starts fetching on "go"
 *             on stdin (so that several processes start together), prints
 *             {"type":"progress","count":n} every ~50 ms while the count changes, and after
 *             "stop" one {"type":"report", ...WorkerReport} before it exits. A worker exits by
 *             itself when its stdin closes.
 *   producer: one {"type":"report", ...ProducerReport}, then exits.
 * Environment: REDIS_URL, BENCH_QUEUE; workers BENCH_CONCURRENCY and BENCH_MODE
 * (drain|latency); producers BENCH_MODE (one|bulk|rate), BENCH_N, BENCH_BATCH, BENCH_RATE.
 * Every job is class "NoopJob" on queue "bench" with args [enqueuedAtMs] (epoch ms, fractional).
 */
import type { JsonChild } from '../lib/children.js';
import type { Workload } from '../lib/args.js';

export const QUEUE = 'bench';
export const JOB_CLASS = 'NoopJob';

export interface WorkerSpec {
  concurrency: number;
  mode: 'drain' | 'latency';
  /** Node systems: flags for the worker's `node` command line, before the script (e.g. V8's). */
  nodeFlags?: readonly string[];
}

export interface ProducerSpec {
  mode: 'one' | 'bulk' | 'rate';
  /** Jobs to enqueue in total. */
  n: number;
  /** Jobs per bulk call (mode bulk). */
  batch?: number;
  /** Jobs per second (mode rate). */
  rate?: number;
}

export interface WorkerReport {
  /** Jobs finished by this process. */
  count: number;
  /** Epoch ms when the first job started / the last job finished (0 when none ran). */
  firstStartMs: number;
  lastFinishMs: number;
  /** Process CPU (user+sys) from "ready" to (within ~50 ms after) its last finished job, µs. */
  cpuUs: number;
  /** Peak resident set size (VmHWM), kB. */
  hwmKb: number;
  /**
   * Node workers: where the memory is at the report, MB: each V8 heap space's committed size
   * (new_space is the young generation, which V8 grows under a high allocation rate), plus
   * `external` (Buffers and other off-heap memory V8 is told of).
   */
  memoryMb?: Record<string, number>;
  /** Enqueue-to-start latency, ms (mode latency only). */
  latency?: { n: number; p50: number; p99: number; max: number };
}

export interface ProducerReport {
  jobs: number;
  elapsedMs: number;
  cpuUs: number;
}

/** Harness side of a system. */
export interface BenchSystem {
  readonly name: string;
  /** What the worker runs on: Node systems take `WorkerSpec.nodeFlags`. */
  readonly runtime: 'node' | 'ruby';
  /** Drain concurrencies; the last one is the "top" one used by the cost and scale workloads. */
  readonly drainConcurrencies: readonly number[];
  /** The workloads it takes part in (default all): a variant of another system runs only where it differs. */
  readonly workloads?: readonly Workload[];
  /** null when the system can run here, else why not (e.g. "not installed", "not built yet"). */
  available(): Promise<string | null>;
  /** Version string for the results file. */
  version(): Promise<string>;
  spawnProducer(redisUrl: string, spec: ProducerSpec): JsonChild;
  spawnWorker(redisUrl: string, spec: WorkerSpec): JsonChild;
}

/** In-process side of a Node system, loaded by node-worker.ts and node-producer.ts. */
export interface NodeDriver {
  openProducer(redisUrl: string): Promise<Producer>;
  /** Connects and sets a worker up without fetching yet; `start` begins fetching. */
  prepareWorker(redisUrl: string, opts: DriverWorkerOptions): Promise<PreparedWorker>;
}

export interface Producer {
  enqueueOne(args: unknown[]): Promise<void>;
  enqueueBulk(argsList: unknown[][]): Promise<void>;
  close(): Promise<void>;
}

export interface PreparedWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface DriverWorkerOptions {
  concurrency: number;
  /** Call when a job's handler starts, with the job's args. */
  onStart(args: unknown[]): void;
  /** Call when a job is finished (acknowledged, when the system tells). */
  onDone(): void;
}
