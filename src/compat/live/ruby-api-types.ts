/**
 * The shapes that compat/ruby/producer.rb takes and compat/ruby/api.rb prints: the operations
 * the live harness can ask the real Sidekiq 6.4.1 to do, and the JSON it answers with.
 *
 * Numbers come back through JSON.parse, so an Integer above 2^53 loses precision here; every
 * job entry also carries `value`, the raw string from Redis, for byte-exact assertions.
 */

/** A job pushed through `Sidekiq::Client` with a String class name. */
export interface PushOp {
  op: 'push';
  class: string;
  args: unknown[];
  queue?: string;
  /** Epoch seconds; the job goes to the `schedule` zset. */
  at?: number | null;
  retry?: boolean | number;
  /** Extra job-hash fields merged in as is, e.g. `{ backtrace: true, tags: ['a'] }`. */
  extra?: Record<string, unknown>;
}

/** `Sidekiq::Client.push_bulk`: one job per element of `args`. */
export interface PushBulkOp extends Omit<PushOp, 'op' | 'args' | 'at'> {
  op: 'push_bulk';
  args: unknown[][];
  /** One time for all jobs, or one per job (same length as `args`). */
  at?: number | number[] | null;
}

/** What `Worker.perform_in`/`perform_at` do: `interval` < 1e9 is relative, else absolute. */
export interface PerformInOp {
  op: 'perform_in';
  class: string;
  args: unknown[];
  interval: number;
  queue?: string;
}

/** `SADD queues <q>` + `LPUSH queue:<q> <value>` with the string as is (e.g. invalid JSON). */
export interface RawLpushOp {
  op: 'raw_lpush';
  queue: string;
  value: string;
}

export type ProducerOp = PushOp | PushBulkOp | PerformInOp | RawLpushOp;

/** One member of `retry`, `dead` or `schedule` as `Sidekiq::SortedEntry` reads it. */
export interface SortedEntry {
  jid: string | null;
  class: string | null;
  args: unknown[];
  queue: string | null;
  retry_count: number | null;
  error_message: string | null;
  error_class: string | null;
  failed_at: number | null;
  retried_at: number | null;
  enqueued_at: number | null;
  created_at: number | null;
  score: number;
  /** The member exactly as stored in Redis. */
  value: string;
}

export interface SortedSetResult {
  name: string;
  size: number;
  entries: SortedEntry[];
}

/** One process from `Sidekiq::ProcessSet`: its `info` JSON merged with the heartbeat fields. */
export interface ProcessEntry {
  identity: string;
  hostname: string;
  pid: number;
  busy: number;
  queues: string[];
  concurrency: number;
  /** The string "true" or "false", as Sidekiq stores it. */
  quiet: string;
  beat: number;
  tag: string;
  labels: string[];
  started_at: number;
  rss: number;
  stopping: boolean;
}

export interface StatsResult {
  processed: number;
  failed: number;
  enqueued: number;
  retry_size: number;
  dead_size: number;
  scheduled_size: number;
  processes_size: number;
  workers_size: number;
  default_queue_latency: number;
  queues: Record<string, number>;
}

export interface QueueResult {
  name: string;
  size: number;
  latency: number;
  entries: Array<{ jid: string | null; class: string | null; args: unknown[]; enqueued_at: number | null; value: string }>;
}

export interface WorkEntry {
  process: string;
  thread: string;
  queue: string;
  run_at: number;
  class: string;
  args: unknown[];
  jid: string;
  payload: Record<string, unknown>;
}

/** Each api.rb operation and what it prints. */
export interface ApiResults {
  retry_set: SortedSetResult;
  dead_set: SortedSetResult;
  schedule_set: SortedSetResult;
  retry_all: { retried: number; retry_size: number };
  dead_retry_all: { retried: number; dead_size: number };
  retry_jid: { found: boolean };
  kill_jid: { found: boolean };
  process_set: { size: number; processes: ProcessEntry[] };
  stats: StatsResult;
  queue: QueueResult;
  work_set: { size: number; entries: WorkEntry[] };
  quiet_process: { found: boolean };
  stop_process: { found: boolean };
}

export type ApiOp =
  | { op: 'retry_set' | 'dead_set' | 'schedule_set' | 'retry_all' | 'dead_retry_all' | 'process_set' | 'stats' | 'work_set' }
  | { op: 'retry_jid' | 'kill_jid'; jid: string }
  | { op: 'queue'; name: string }
  | { op: 'quiet_process' | 'stop_process'; identity: string };

/** What RecordJob (and FailOnceJob on its second run) stores in `compat:received`. */
export interface ReceivedRecord {
  jid: string;
  class: string;
  queue: string;
  /** `JSON.generate(args)` in Ruby: big Integers exact, Floats with a `.0`. */
  args_json: string;
  args_inspect: string;
  /** Per arg, Ruby's class name, or `{Array: [...]}` / `{Hash: {key: ...}}` for containers. */
  types: RubyType[];
  /** The job string exactly as the processor fetched it from Redis. */
  raw_payload: string;
  /** The parsed job hash as the server middleware saw it, re-encoded by Ruby. */
  job_json: string;
  retry_count: number | null;
  enqueued_at: number | null;
  created_at: number | null;
  enqueued_at_class: string;
  created_at_class: string;
  /** Ruby encodings of the String args (e.g. ["UTF-8"]). */
  encoding: string[];
  pid: number;
  recorded_at: number;
}

export type RubyType = string | { Array: RubyType[] } | { Hash: Record<string, RubyType> };
