/**
 * Drives a real Sidekiq 6.4.1 (Ruby, Debian's ruby-sidekiq) from TypeScript, for kiqgate's live
 * compatibility tests: start and stop a `sidekiq` server process that runs compat/ruby/jobs.rb,
 * enqueue with the real Ruby client (compat/ruby/producer.rb), and read or act through the real
 * admin API (compat/ruby/api.rb).
 *
 * Nothing here is mocked and nothing asserts on timing: every wait polls real Redis state
 * against a deadline, and a missed deadline fails with what was seen and the Sidekiq log tail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { packageRoot } from '../../support/package-root.js';
import type { ApiOp, ApiResults, ProducerOp, ReceivedRecord } from './ruby-api-types.js';

export type * from './ruby-api-types.js';

/** The package's compat/ folder (absolute); only compat/ruby/ ships in the npm package. */
export const COMPAT_DIR = join(packageRoot(), 'compat');
/** The Ruby scripts the harness runs (shipped in the package: package.json "files"). */
export const RUBY_DIR = join(COMPAT_DIR, 'ruby');
export const JOBS_RB = join(RUBY_DIR, 'jobs.rb');
export const PRODUCER_RB = join(RUBY_DIR, 'producer.rb');
export const API_RB = join(RUBY_DIR, 'api.rb');
export const DEAD_UI_RB = join(RUBY_DIR, 'dead_ui.rb');
export const ACTIVEJOB_JOBS_RB = join(RUBY_DIR, 'activejob_jobs.rb');
export const ACTIVEJOB_PRODUCER_RB = join(RUBY_DIR, 'activejob_producer.rb');
/** The Redis hash RecordJob writes: field = jid, value = a ReceivedRecord as JSON. */
export const RECEIVED_KEY = 'compat:received';
/** The Redis hash every compat job increments per run: field = jid, value = run count. */
export const ATTEMPTS_KEY = 'compat:attempts';

/** How to get Ruby Sidekiq 6.4.1 (Debian/Ubuntu). */
export const INSTALL_HINT = "run compat/install-ruby-sidekiq.sh (as root) or `apt-get install -y ruby-sidekiq` to install Debian's ruby-sidekiq 6.4.1";
const LOG_LIMIT = 256 * 1024;

/** True when `ruby` is on the PATH and `require "sidekiq"` works. */
export function rubySidekiqAvailable(): boolean {
  return spawnSync('ruby', ['-e', 'require "sidekiq"'], { stdio: 'ignore' }).status === 0;
}

/** The installed Sidekiq version (e.g. "6.4.1"), or undefined when Ruby or Sidekiq is missing. */
export function sidekiqVersion(): string | undefined {
  const out = spawnSync('ruby', ['-e', 'require "sidekiq"; print Sidekiq::VERSION'], { encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim() : undefined;
}

/** Throws a clear error (with the install command) when Ruby Sidekiq is not installed. */
export function requireRubySidekiq(): string {
  const version = sidekiqVersion();
  if (version === undefined) throw new Error(`Ruby Sidekiq is not installed: ${INSTALL_HINT}`);
  return version;
}

export interface WaitOptions {
  /** Deadline; the default is 20 s. */
  timeoutMs?: number;
  /** Pause between polls; the default is 50 ms. */
  intervalMs?: number;
  /** What is awaited, for the error message, e.g. "the job in compat:received". */
  what: string;
  /** Extra context for the error message (e.g. a Sidekiq log tail), read only on timeout. */
  diagnostics?: () => string;
}

/**
 * Polls `fn` until it returns something other than undefined, null or false, and returns that.
 * A missed deadline throws with `what`, the last value seen, and the diagnostics.
 */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: WaitOptions,
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      last = await fn();
      lastError = undefined;
      if (last !== undefined && last !== null && last !== false) return last as T;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
  const seen = lastError !== undefined ? `last error: ${String(lastError)}` : `last value: ${JSON.stringify(last)}`;
  const extra = opts.diagnostics ? `\n${opts.diagnostics()}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what} (${seen})${extra}`);
}

export interface StartSidekiqOptions {
  redisUrl: string;
  /** Queue names (strict order) or [name, weight] pairs, passed as `-q name[,weight]`. */
  queues: string[] | Array<[string, number]>;
  /** Worker threads (`-c`). */
  concurrency: number;
  /** Shutdown timeout in seconds (`-t`); Sidekiq's default is 25. */
  shutdownTimeoutS?: number;
  /** Extra environment, e.g. `{ COMPAT_POLL_INTERVAL_AVERAGE: '1' }` (see jobs.rb). */
  env?: Record<string, string>;
  /** Deadline for the first heartbeat; the default is 30 s. */
  bootTimeoutMs?: number;
  /** Poll `processes` over this connection instead of a new one (the capture tool uses its own). */
  pollWith?: Redis;
  /** The Ruby file sidekiq loads (`-r`); default compat/ruby/jobs.rb (ActiveJob's: activejob_jobs.rb). */
  require?: string;
}

export interface SidekiqProcess {
  /** The identity in the `processes` set, `<hostname>:<pid>:<hex>`. */
  readonly identity: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** Milliseconds from spawn to the identity appearing in `processes`. */
  readonly bootMs: number;
  /** SIGTERM, wait for exit (shutdown timeout + 10 s), then SIGKILL. Safe to call twice. */
  stop(): Promise<void>;
  /** The captured stdout + stderr (the last 256 KiB). */
  log(): string;
  /** The last `lines` lines of the log, for error messages. */
  logTail(lines?: number): string;
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => resolveExit(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveExit(true);
    });
  });
}

/**
 * Spawns `sidekiq -r compat/ruby/jobs.rb -q ... -c N` (cwd compat/ruby/, so no Rails app is
 * looked for) and resolves once its identity is in the Redis `processes` set, i.e. after its first
 * heartbeat.
 */
export async function startSidekiq(opts: StartSidekiqOptions): Promise<SidekiqProcess> {
  requireRubySidekiq();
  const queueArgs = opts.queues.flatMap((q) => ['-q', typeof q === 'string' ? q : `${q[0]},${q[1]}`]);
  const args = ['-r', opts.require ?? JOBS_RB, ...queueArgs, '-c', String(opts.concurrency)];
  if (opts.shutdownTimeoutS !== undefined) args.push('-t', String(opts.shutdownTimeoutS));
  const started = Date.now();
  const child = spawn('sidekiq', args, {
    cwd: RUBY_DIR,
    env: { ...process.env, ...opts.env, REDIS_URL: opts.redisUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logText = '';
  const append = (chunk: Buffer) => {
    logText += chunk.toString('utf8');
    if (logText.length > LOG_LIMIT) logText = logText.slice(-LOG_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let spawnError: Error | undefined;
  child.once('error', (err) => { spawnError = err; });
  const logTail = (lines = 40) => logText.split('\n').slice(-lines).join('\n');
  const exitTimeoutMs = ((opts.shutdownTimeoutS ?? 25) + 10) * 1000;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    if (!(await waitExit(child, exitTimeoutMs))) {
      child.kill('SIGKILL');
      await waitExit(child, 5_000);
    }
  };

  const redis = opts.pollWith ?? new Redis(opts.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    if (!opts.pollWith) await redis.connect();
    const identity = await waitFor(
      async () => {
        if (spawnError) throw new Error(`could not spawn sidekiq: ${spawnError.message}`);
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`sidekiq exited (code ${child.exitCode}, signal ${child.signalCode}) before its first heartbeat`);
        }
        const members = await redis.smembers('processes');
        return members.find((id) => id.split(':')[1] === String(child.pid));
      },
      {
        what: `sidekiq pid ${child.pid} in the Redis 'processes' set`,
        timeoutMs: opts.bootTimeoutMs ?? 30_000,
        diagnostics: () => `sidekiq ${args.join(' ')}\n--- sidekiq log tail ---\n${logTail()}`,
      },
    ).catch(async (err: unknown) => {
      await stop();
      throw err;
    });
    return {
      identity,
      pid: child.pid!,
      process: child,
      bootMs: Date.now() - started,
      stop,
      log: () => logText,
      logTail,
    };
  } finally {
    if (!opts.pollWith) redis.disconnect();
  }
}

/**
 * Serializes a value to JSON for Ruby, writing `bigint`s as bare JSON integers so values such as
 * 2n ** 62n reach Ruby as exact Integers. (A JS number cannot carry `1.0` or 2^62 exactly: pass
 * raw JSON text to the runners for those.)
 */
export function toRubyJson(value: unknown): string {
  const marker = '__kiqgate_bigint__:';
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${marker}${v}` : v));
  return text.replace(new RegExp(`"${marker}(-?\\d+)"`, 'g'), '$1');
}

async function runRuby(script: string, redisUrl: string, input: string): Promise<string> {
  requireRubySidekiq();
  const child = spawn('ruby', [script], {
    cwd: RUBY_DIR,
    env: { ...process.env, REDIS_URL: redisUrl },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const exit = new Promise<number | null>((resolveExit, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolveExit(code));
  });
  child.stdin.end(input);
  const code = await exit;
  const stdout = Buffer.concat(out).toString('utf8');
  if (code !== 0) {
    const stderr = Buffer.concat(err).toString('utf8');
    throw new Error(`ruby ${script} exited with code ${code}\ninput: ${input.slice(0, 2000)}\nstderr:\n${stderr}\nstdout:\n${stdout}`);
  }
  return stdout;
}

/**
 * Enqueues with the real Ruby client (compat/ruby/producer.rb) and returns the jids in op order
 * (push_bulk flattened, raw_lpush none, null where middleware stopped a job). Pass a string to
 * send raw JSON text (for `1.0`, big integers and other values a JS number cannot hold).
 */
export async function runRubyProducer(redisUrl: string, ops: ProducerOp[] | string): Promise<Array<string | null>> {
  const input = typeof ops === 'string' ? ops : toRubyJson(ops);
  const stdout = await runRuby(PRODUCER_RB, redisUrl, input);
  return JSON.parse(stdout) as Array<string | null>;
}

/** Runs one operation of the real `sidekiq/api` (compat/ruby/api.rb) and returns its JSON. */
export async function runRubyApi<O extends ApiOp>(redisUrl: string, op: O): Promise<ApiResults[O['op']]> {
  const stdout = await runRuby(API_RB, redisUrl, JSON.stringify(op));
  return JSON.parse(stdout) as ApiResults[O['op']];
}

/** One sorted-set entry as compat/ruby/dead_ui.rb read it (values are Ruby #inspect strings). */
export interface DeadUiEntry {
  value: string;
  jid: string | null; jid_raw?: string; klass: string | null; display_class: string | null;
  args: string | null; display_args: string | null; error_message: string | null; error_class: string | null;
  at: number | null; score: number | null;
  /** Every accessor that raised, as `name: Class: message`. */
  errors: string[];
}

/** What compat/ruby/dead_ui.rb prints: the dead and retry sets through the API, and the Web UI pages. */
export interface DeadUiReport {
  sets: Record<'dead' | 'retry', { size: number; iterated: number; error: string | null; entries: DeadUiEntry[] }>;
  pages: Array<{ path: string; status: number | null; mentions: boolean; missing: string[]; error: string | null }>;
}

/**
 * Reads `dead` and `retry` with Sidekiq's DeadSet/RetrySet and renders the Web UI pages that show
 * them (compat/ruby/dead_ui.rb), on the Redis at `redisUrl` (no namespace).
 */
export async function runRubyDeadUi(redisUrl: string): Promise<DeadUiReport> {
  return JSON.parse(await runRuby(DEAD_UI_RB, redisUrl, '')) as DeadUiReport;
}

/** The record RecordJob (or FailOnceJob's second run) wrote for `jid`, if any. */
export async function readReceived(redis: Redis, jid: string): Promise<ReceivedRecord | undefined> {
  const json = await redis.hget(RECEIVED_KEY, jid);
  return json === null ? undefined : (JSON.parse(json) as ReceivedRecord);
}
