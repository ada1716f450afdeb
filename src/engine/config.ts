/**
 * Worker configuration: the options, their defaults, and where they come from.
 *
 * Four layers, lowest precedence first: the API (`new Worker({...})`), a JSON config file,
 * the environment (`REDIS_URL`, `KIQGATE_*`), CLI flags. Each value is checked once, here,
 * and an invalid one is a {@link ConfigError} that names the option and the layer it came
 * from, so a typo never turns into a silently ignored setting.
 */
import { readFileSync } from 'node:fs';
import type { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { closest } from '../support/did-you-mean.js';
import { TLS_ENV } from '../support/tls.js';
import { PEERS, type Peer, dialectFor, isPeer, newJid, queueNameProblem } from '../wire/index.js';
import { RESQUE_HEARTBEAT_MS } from '../wire/dialects/resque.js';
import type { HandlerTable } from './registry.js';

/** The Sidekiq versions (kept for the API: a Sidekiq peer is one `peer` value among others). */
export type SidekiqPeer = 'sidekiq6' | 'sidekiq7' | 'sidekiq8';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** What a caller may pass to `new Worker(...)`. Every field is optional. */
export interface WorkerOptions {
  /** Redis URL or ioredis options (default: `REDIS_URL`, else redis://127.0.0.1:6379). */
  redis?: string | RedisOptions;
  /** Queue name → concurrency (default `{ default: 10 }`). */
  queues?: Record<string, number>;
  /** Class name → handler (a Map, or an object whose own properties are the classes). */
  handlers?: HandlerTable;
  /** Fixed node id, naming `inprogress:<q>:<node>` (default {@link DEFAULT_NODE_ID}). */
  nodeId?: string;
  /** Generate a random node id (Verk's `generate_node_id`); turns Verk node tracking on. */
  generateNodeId?: boolean;
  /** Verk node heartbeat period in ms (default 30000). */
  heartbeatMs?: number;
  /**
   * Whether to write Sidekiq's process heartbeat (`processes`, `<identity>`); default true when
   * `peer` is a Sidekiq version (whose tools read it), false otherwise (true is then refused).
   */
  sidekiqHeartbeat?: boolean;
  /** Average schedule/retry poll interval in ms (default 5000, jittered ±50%). */
  pollIntervalMs?: number;
  /**
   * How long stop() lets running jobs finish before aborting them (default 25000). If Redis
   * does not answer, stop() gives up on it 2 s after this deadline and closes the connections
   * it opened: what it could not write stays in the in-progress lists, recovered later.
   */
  shutdownTimeoutMs?: number;
  /** Max retries when a job says `retry: true` or Verk's max_retry_count is null (default 25). */
  maxRetries?: number;
  /**
   * Dead set size kept. Default: the limit of the `peer` the worker stands in for (Verk's 100,
   * Sidekiq's and Exq's 10000); a value set here applies to every job.
   */
  deadMaxJobs?: number;
  /**
   * Dead entries older than this are trimmed. Default: the `peer`'s (Verk's 7 days, Sidekiq's
   * and Exq's 180 days); a value set here applies to every job.
   */
  deadTimeoutSeconds?: number;
  /**
   * The runtime this worker stands in for (default sidekiq7): it decides what the worker writes,
   * whoever produced the job: the failure entry's shape and destination, the dead-set limits,
   * the process registry (Sidekiq's heartbeat layout of that version), and the default
   * namespace (Exq's `exq`). Jobs of every dialect are read whatever the setting.
   */
  peer?: Peer;
  /** Key prefix (`<ns>:`), as redis-namespace wrote it for Sidekiq 6; default the peer's (Exq: `exq`). */
  namespace?: string;
  /** Peer resque: the `workers:heartbeat` period in ms (default 60000, Resque's). */
  resqueHeartbeatMs?: number;
  /** A pino logger (default: a JSON logger on stdout at `logLevel`). */
  logger?: Logger;
  /** Level of the default logger (default info). */
  logLevel?: LogLevel;
  /**
   * Log levels of the per-job lines (Verk's start/done/fail_job_log_level; environment
   * KIQGATE_START_LOG_LEVEL / _DONE_ / _FAIL_): start `debug`, done `info` (one line per
   * successful job with class, jid and durationMs, as Sidekiq's job logger), fail `warn`.
   * `silent` turns a line off (e.g. `{ done: 'silent' }` for a worker running many tiny jobs).
   */
  jobLogLevels?: { start?: LogLevel; done?: LogLevel; fail?: LogLevel };
  /** false: this node fetches nothing (it still runs the scheduler and heartbeat). */
  processing?: boolean;
  /** Payloads larger than this go to dead unread (default 8 MiB; 0 disables). */
  maxPayloadBytes?: number;
  /** Also write Verk's per-queue `stat:processed:<q>` / `stat:failed:<q>` (default false). */
  verkQueueStats?: boolean;
  /** Seconds a blocking fetch waits before it re-checks (default 2, Sidekiq's BRPOP timeout). */
  blockTimeoutSeconds?: number;
  /**
   * Jobs per queue fetched ahead of a free slot (default 0: a job leaves `queue:<q>` only when a
   * slot starts it). Prefetched jobs sit in this node's in-progress list, where Sidekiq's stats
   * and other consumers of the queue do not see them, until a slot here frees up (issue 16).
   */
  prefetch?: number;
  /**
   * How long start() waits for Redis to answer before it fails with a clear error (default
   * 15000; 0 waits forever). A rejected login (WRONGPASS, NOAUTH) fails at once.
   */
  connectTimeoutMs?: number;
  /**
   * Serve Prometheus metrics on `http://<metricsHost>:<port>/metrics` (src/metrics; environment
   * KIQGATE_METRICS_PORT). Unset (the default): no server, no metric is counted. 0 picks a free
   * port (`worker.metricsAddress()` tells which).
   */
  metricsPort?: number;
  /** The address the metrics server listens on (default 0.0.0.0: Prometheus scrapes from elsewhere). */
  metricsHost?: string;
  /**
   * OpenTelemetry consumer spans around each job (src/tracing; needs the optional peer
   * `@opentelemetry/api`, loaded only when this is on). Default false: nothing is loaded.
   * `true` or `'link'`: a job's span starts a new trace linked to its producer's span (the Ruby
   * Sidekiq instrumentation's default `propagation_style`); `'child'`: it is a child of the
   * producer's span, one trace from enqueue to run (environment KIQGATE_TRACING=link|child|false).
   */
  tracing?: boolean | 'link' | 'child';
  /**
   * Write the execution metrics Sidekiq's Web UI Metrics page reads (`j|…` hashes, `h|…`
   * histograms); default true when `peer` is a Sidekiq version whose Web UI has that page (7, 8),
   * false otherwise (true is then refused).
   */
  sidekiqMetrics?: boolean;
}

/** The options after defaults and validation. */
export interface WorkerConfig {
  redis: string | RedisOptions | undefined;
  queues: Map<string, number>;
  nodeId: string;
  generateNodeId: boolean;
  heartbeatMs: number;
  sidekiqHeartbeat: boolean;
  pollIntervalMs: number;
  shutdownTimeoutMs: number;
  maxRetries: number;
  /** The configured dead-set limits; undefined = not configured: the peer's limit applies. */
  deadMaxJobs: number | undefined;
  deadTimeoutSeconds: number | undefined;
  peer: Peer;
  namespace: string | undefined;
  resqueHeartbeatMs: number;
  logLevel: LogLevel;
  jobLogLevels: { start: LogLevel; done: LogLevel; fail: LogLevel };
  processing: boolean;
  maxPayloadBytes: number;
  verkQueueStats: boolean;
  blockTimeoutSeconds: number;
  connectTimeoutMs: number;
  prefetch: number;
  /** undefined: no metrics server. */
  metricsPort: number | undefined;
  metricsHost: string;
  /** false: no spans; else how a job's span relates to its producer's. */
  tracing: false | 'link' | 'child';
  sidekiqMetrics: boolean;
}

/** An invalid configuration value: says which option, from which layer, and what is expected. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly option: string, readonly source: string, message: string) {
    super(`invalid ${option} (${source}): ${message}`);
  }
}

type Layer = Partial<Omit<WorkerOptions, 'handlers' | 'logger'>>;

function positiveInt(v: unknown, option: string, source: string, min = 1): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) {
    throw new ConfigError(option, source, `expected an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/**
 * The longest timer Node runs as asked: setTimeout/setInterval turn anything above 2^31-1 ms
 * into 1 ms, so a shutdown timeout of 3e9 ms would give up at once and a poll interval of 3e9
 * would poll in a hot loop. Every option that ends up in a timer is checked against it here,
 * so every layer (API, file, environment, flags) gets the same error.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** How long after the shutdown deadline stop() still waits for Redis to take its last writes. */
export const REDIS_GRACE_MS = 2_000;

/**
 * Largest `shutdownTimeoutMs`: stop()'s last-resort timer (worker.ts) waits this option plus
 * REDIS_GRACE_MS, and that sum must still fit in a timer.
 */
export const MAX_SHUTDOWN_TIMEOUT_MS = MAX_TIMER_MS - REDIS_GRACE_MS;

/** Each timer option's ceiling, and why it is below {@link MAX_TIMER_MS} when it is. */
const TIMER_LIMITS: Record<string, { max: number; unit: 'ms' | 's'; why?: string }> = {
  heartbeatMs: { max: MAX_TIMER_MS, unit: 'ms' },
  resqueHeartbeatMs: { max: MAX_TIMER_MS, unit: 'ms' },
  connectTimeoutMs: { max: MAX_TIMER_MS, unit: 'ms' },
  // The scheduler waits 0.5x to 1.5x the interval (jitter).
  pollIntervalMs: { max: Math.floor(MAX_TIMER_MS / 1.5), unit: 'ms', why: 'the scheduler waits up to 1.5 times it' },
  shutdownTimeoutMs: { max: MAX_SHUTDOWN_TIMEOUT_MS, unit: 'ms', why: "stop() adds 2 s for Redis to it" },
  // A BLMOVE timeout; a redis option `blockingTimeout` makes ioredis arm a timer of it in ms.
  blockTimeoutSeconds: { max: Math.floor(MAX_TIMER_MS / 1000), unit: 's' },
};

/** `ms` in days, rounded down to a tenth ("24.8" for {@link MAX_TIMER_MS}). */
export function aboutDays(ms: number): string {
  return (Math.floor(ms / 8_640_000) / 10).toFixed(1);
}

/** `n` when it fits in a timer (see {@link MAX_TIMER_MS}), else a ConfigError saying the limit. */
function timerValue(n: number, option: string, source: string): number {
  const limit = TIMER_LIMITS[option];
  if (!limit || n <= limit.max) return n;
  const days = aboutDays(limit.unit === 'ms' ? limit.max : limit.max * 1000);
  throw new ConfigError(option, source, `expected at most ${limit.max} ${limit.unit} (about ${days} days${limit.why ? `; ${limit.why}` : ''}), the longest timer Node runs, got ${n}`);
}

/** A TCP port to listen on: 0 (any free port) to 65535. */
export function checkPort(v: unknown, option: string, source: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > 65_535) {
    throw new ConfigError(option, source, `expected a TCP port from 0 to 65535 (0: any free port), got ${JSON.stringify(v)}`);
  }
  return n;
}

function tracingBool(v: unknown, source: string): boolean {
  try {
    return bool(v, 'tracing', source);
  } catch {
    throw new ConfigError('tracing', source, `expected true, false, "link" or "child", got ${JSON.stringify(v)}`);
  }
}

function bool(v: unknown, option: string, source: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off'].includes(s)) return false;
  }
  throw new ConfigError(option, source, `expected true or false, got ${JSON.stringify(v)}`);
}

function str(v: unknown, option: string, source: string): string {
  if (typeof v !== 'string' || v === '') throw new ConfigError(option, source, `expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function level(v: unknown, option: string, source: string): LogLevel {
  if (typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new ConfigError(option, source, `expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(v)}`);
}

/**
 * Most jobs one queue may run at once in one process. Each slot is a coroutine with its own
 * Redis round trips; far above this, memory (not Redis) is the limit, and 10^9 was an 8 s
 * crawl to a V8 out-of-memory crash. Checked here so every layer (API, file, env, flags) gets it.
 */
export const MAX_CONCURRENCY = 10_000;

/** A queue's concurrency: an integer from 1 to {@link MAX_CONCURRENCY}. */
export function checkConcurrency(v: unknown, option: string, source: string): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > MAX_CONCURRENCY) {
    throw new ConfigError(option, source, `expected a concurrency from 1 to ${MAX_CONCURRENCY} (jobs this queue runs at once in this process), got ${JSON.stringify(v)}`);
  }
  return n;
}

/** Jobs a queue runner may fetch ahead of its free slots: 0 (the default) to {@link MAX_CONCURRENCY}. */
export function checkPrefetch(v: unknown, source: string, option = 'prefetch'): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > MAX_CONCURRENCY) {
    throw new ConfigError(option, source, `expected an integer from 0 to ${MAX_CONCURRENCY} (jobs per queue fetched before a slot is free to start them), got ${JSON.stringify(v)}`);
  }
  return n;
}

/** `name` when the one queue-name rule (src/wire/queue-name.ts) accepts it, else a ConfigError. */
export function queueName(name: string, source: string): string {
  const problem = queueNameProblem(name);
  if (problem) throw new ConfigError('queues', source, problem);
  return name;
}

/** Parses `default:25` (or `default`, concurrency `fallback`) into a queue entry. */
export function parseQueueSpec(spec: string, source: string, fallback = 10): [string, number] {
  const s = spec.trim();
  // Sidekiq's `-q name,weight`: a weight is not a concurrency, so say so rather than take
  // "critical,2" for a queue name.
  const weighted = /^([^,:]+),(\d+)$/.exec(s);
  if (weighted) {
    throw new ConfigError('queues', source, `got ${JSON.stringify(spec)}, Sidekiq's name,weight syntax; kiqgate's is name:N, where N is that queue's concurrency (not a weight), e.g. ${weighted[1]}:${weighted[2]}`);
  }
  const colon = s.indexOf(':');
  if (colon < 0) return [queueName(s, source), fallback];
  const name = s.slice(0, colon);
  if (name === '') throw new ConfigError('queues', source, `expected name[:concurrency], got ${JSON.stringify(spec)}`);
  return [queueName(name, source), checkConcurrency(s.slice(colon + 1), `queues.${name}`, source)];
}

function queues(v: unknown, source: string): Map<string, number> {
  const out = new Map<string, number>();
  if (typeof v === 'string') {
    for (const part of v.split(',').filter((p) => p.trim() !== '')) {
      const [name, n] = parseQueueSpec(part, source);
      out.set(name, n);
    }
  } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [name, n] of Object.entries(v)) {
      out.set(queueName(name, source), checkConcurrency(n, `queues.${name}`, source));
    }
  } else {
    throw new ConfigError('queues', source, `expected an object of queue name → concurrency, got ${JSON.stringify(v)}`);
  }
  if (out.size === 0) throw new ConfigError('queues', source, 'at least one queue is needed');
  return out;
}

const KNOWN_KEYS = new Set<string>([
  'redis', 'queues', 'nodeId', 'generateNodeId', 'heartbeatMs', 'sidekiqHeartbeat', 'pollIntervalMs',
  'shutdownTimeoutMs', 'maxRetries', 'deadMaxJobs', 'deadTimeoutSeconds', 'peer', 'namespace', 'logLevel',
  'jobLogLevels', 'processing', 'maxPayloadBytes', 'verkQueueStats', 'blockTimeoutSeconds', 'connectTimeoutMs',
  'prefetch',
  'resqueHeartbeatMs',
  'metricsPort', 'metricsHost', 'tracing', 'sidekiqMetrics',
]);

/** Checks one layer's values and returns them typed (undefined = not set in this layer). */
function checkLayer(layer: Record<string, unknown>, source: string, strictKeys: boolean): Layer {
  const out: Layer = {};
  for (const [k, v] of Object.entries(layer)) {
    if (v === undefined) continue;
    switch (k) {
      case 'redis':
        if (typeof v === 'string') out.redis = str(v, k, source);
        else if (v !== null && typeof v === 'object') out.redis = v as RedisOptions;
        else throw new ConfigError(k, source, `expected a redis:// URL or ioredis options, got ${JSON.stringify(v)}`);
        break;
      case 'queues': out.queues = Object.fromEntries(queues(v, source)); break;
      case 'nodeId': out.nodeId = str(v, k, source); break;
      case 'namespace': out.namespace = str(v, k, source); break;
      case 'generateNodeId': case 'sidekiqHeartbeat': case 'processing': case 'verkQueueStats':
      case 'sidekiqMetrics':
        out[k] = bool(v, k, source); break;
      case 'tracing': out.tracing = v === 'link' || v === 'child' ? v : tracingBool(v, source); break;
      case 'metricsPort': out.metricsPort = checkPort(v, k, source); break;
      case 'metricsHost': out.metricsHost = str(v, k, source); break;
      case 'heartbeatMs': case 'pollIntervalMs': case 'blockTimeoutSeconds': case 'resqueHeartbeatMs':
        out[k] = timerValue(positiveInt(v, k, source), k, source); break;
      case 'shutdownTimeoutMs': case 'connectTimeoutMs':
        out[k] = timerValue(positiveInt(v, k, source, 0), k, source); break;
      // deadTimeoutSeconds is a trim age (a score bound in Redis), never a timer.
      case 'deadMaxJobs': case 'deadTimeoutSeconds':
        out[k] = positiveInt(v, k, source); break;
      case 'maxRetries': case 'maxPayloadBytes':
        out[k] = positiveInt(v, k, source, 0); break;
      case 'prefetch': out.prefetch = checkPrefetch(v, source); break;
      case 'peer':
        if (!isPeer(v)) throw new ConfigError(k, source, `expected one of ${PEERS.join(', ')}, got ${JSON.stringify(v)}`);
        out.peer = v;
        break;
      case 'logLevel': out.logLevel = level(v, k, source); break;
      case 'jobLogLevels': {
        if (v === null || typeof v !== 'object') throw new ConfigError(k, source, 'expected { start, done, fail } log levels');
        const o = v as Record<string, unknown>;
        out.jobLogLevels = {};
        for (const which of ['start', 'done', 'fail'] as const) {
          if (o[which] !== undefined) out.jobLogLevels[which] = level(o[which], `jobLogLevels.${which}`, source);
        }
        break;
      }
      default:
        if (strictKeys && !KNOWN_KEYS.has(k)) throw new ConfigError(k, source, `unknown option (known: ${[...KNOWN_KEYS].join(', ')})`);
    }
  }
  return out;
}

/** Reads a JSON config file (same option names as the API). */
export function readConfigFile(path: string): Layer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError('config file', path, (err as Error).message);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('config file', path, 'expected a JSON object of options');
  }
  return checkLayer(parsed as Record<string, unknown>, `config file ${path}`, true);
}

const ENV_NAMES: Record<string, string> = {
  KIQGATE_REDIS_URL: 'redis', KIQGATE_QUEUES: 'queues', KIQGATE_NODE_ID: 'nodeId',
  KIQGATE_GENERATE_NODE_ID: 'generateNodeId', KIQGATE_HEARTBEAT_MS: 'heartbeatMs',
  KIQGATE_SIDEKIQ_HEARTBEAT: 'sidekiqHeartbeat', KIQGATE_POLL_INTERVAL_MS: 'pollIntervalMs',
  KIQGATE_SHUTDOWN_TIMEOUT_MS: 'shutdownTimeoutMs', KIQGATE_MAX_RETRIES: 'maxRetries',
  KIQGATE_DEAD_MAX_JOBS: 'deadMaxJobs', KIQGATE_DEAD_TIMEOUT_SECONDS: 'deadTimeoutSeconds',
  KIQGATE_PEER: 'peer', KIQGATE_NAMESPACE: 'namespace', KIQGATE_LOG_LEVEL: 'logLevel',
  KIQGATE_PROCESSING: 'processing', KIQGATE_MAX_PAYLOAD_BYTES: 'maxPayloadBytes',
  KIQGATE_VERK_QUEUE_STATS: 'verkQueueStats', KIQGATE_CONNECT_TIMEOUT_MS: 'connectTimeoutMs',
  KIQGATE_PREFETCH: 'prefetch',
  KIQGATE_RESQUE_HEARTBEAT_MS: 'resqueHeartbeatMs',
  KIQGATE_METRICS_PORT: 'metricsPort', KIQGATE_METRICS_HOST: 'metricsHost',
  KIQGATE_TRACING: 'tracing', KIQGATE_SIDEKIQ_METRICS: 'sidekiqMetrics',
};

const JOB_LOG_LEVEL_ENV = { KIQGATE_START_LOG_LEVEL: 'start', KIQGATE_DONE_LOG_LEVEL: 'done', KIQGATE_FAIL_LOG_LEVEL: 'fail' } as const;

/** Every KIQGATE_* variable kiqgate reads (the worker's options, the config file, the TLS files). */
export const KNOWN_ENV: ReadonlySet<string> = new Set([
  ...Object.keys(ENV_NAMES), ...Object.keys(JOB_LOG_LEVEL_ENV), 'KIQGATE_CONFIG', ...Object.values(TLS_ENV),
]);

/** Hints for names users reach for that are not variables (the option exists in another form). */
const ENV_HINTS: Record<string, string> = {
  KIQGATE_CONCURRENCY: 'concurrency is per queue: set KIQGATE_QUEUES=default:5 (or pass --concurrency 5)',
  KIQGATE_TIMEOUT: 'did you mean KIQGATE_SHUTDOWN_TIMEOUT_MS (milliseconds)?',
  KIQGATE_REDIS: 'did you mean KIQGATE_REDIS_URL (or REDIS_URL)?',
};

/**
 * Rejects a KIQGATE_* variable that kiqgate does not read: like an unknown config-file key, a
 * typo (KIQGATE_QUEUE, KIQGATE_TLS_CA_FILE) must not turn into a silently ignored setting.
 */
export function checkEnvNames(env: NodeJS.ProcessEnv): void {
  for (const name of Object.keys(env)) {
    if (!name.startsWith('KIQGATE_') || KNOWN_ENV.has(name)) continue;
    const near = closest(name, KNOWN_ENV);
    const hint = ENV_HINTS[name] ?? (near ? `did you mean ${near}?` : undefined);
    throw new ConfigError(name, 'environment', `unknown variable${hint ? `; ${hint}` : ''} (known: ${[...KNOWN_ENV].join(', ')}); unset it`);
  }
}

/**
 * The Redis URL the environment names: `KIQGATE_REDIS_URL`, else `REDIS_URL` (an empty
 * REDIS_URL counts as unset; an empty KIQGATE_REDIS_URL is an error). One rule for every
 * command: the worker (through {@link readEnv}) and enqueue, compat and demo read it here.
 */
export function envRedisUrl(env: NodeJS.ProcessEnv): string | undefined {
  const own = env.KIQGATE_REDIS_URL;
  if (own !== undefined) {
    if (own === '') throw new ConfigError('KIQGATE_REDIS_URL', 'environment', 'expected a redis:// or rediss:// URL, got ""; unset it to use REDIS_URL or the default');
    return own;
  }
  return env.REDIS_URL || undefined;
}

/** The options set in the environment: `REDIS_URL` and `KIQGATE_*` (`KIQGATE_CONFIG` names a file). */
export function readEnv(env: NodeJS.ProcessEnv): Layer {
  checkEnvNames(env);
  const raw: Record<string, unknown> = {};
  const redis = envRedisUrl(env);
  if (redis !== undefined) raw.redis = redis;
  const levels: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith('KIQGATE_') || name === 'KIQGATE_REDIS_URL') continue;
    const key = ENV_NAMES[name];
    if (key) raw[key] = value;
    else if (name in JOB_LOG_LEVEL_ENV) levels[JOB_LOG_LEVEL_ENV[name as keyof typeof JOB_LOG_LEVEL_ENV]] = value;
  }
  if (Object.keys(levels).length > 0) raw.jobLogLevels = levels;
  return checkLayer(raw, 'environment', false);
}

/**
 * The fixed node id when none is given. Not Verk's default ("1": a Verk left at its defaults
 * writes no node key, so kiqgate could not see it and would give back its running jobs, issue 16),
 * not Exq's (the hostname: an underscore is not allowed in a hostname, RFC 1123), and not a Verk
 * generated id (decimal digits only).
 */
export const DEFAULT_NODE_ID = 'kiqgate_1';
/** The default fixed node id of kiqgate before issue 16 (and Verk's): see Worker's upgrade check. */
export const LEGACY_DEFAULT_NODE_ID = '1';

/** Merges layers (later wins; jobLogLevels merged per level) and fills in the defaults. */
export function resolveConfig(layers: { api?: WorkerOptions; file?: string; env?: NodeJS.ProcessEnv; cli?: Layer }): WorkerConfig {
  const { handlers: _h, logger: _l, ...apiRest } = layers.api ?? {};
  const stack: Layer[] = [checkLayer(apiRest as Record<string, unknown>, 'API', true)];
  const file = layers.file ?? layers.env?.KIQGATE_CONFIG;
  if (file) stack.push(readConfigFile(file));
  if (layers.env) stack.push(readEnv(layers.env));
  if (layers.cli) stack.push(checkLayer(layers.cli as Record<string, unknown>, 'command line', true));

  const m: Layer = {};
  for (const l of stack) {
    const { jobLogLevels, ...rest } = l;
    Object.assign(m, rest);
    if (jobLogLevels) m.jobLogLevels = { ...m.jobLogLevels, ...jobLogLevels };
  }
  if (m.nodeId !== undefined && m.generateNodeId) {
    throw new ConfigError('nodeId', 'merged options', 'a fixed nodeId and generateNodeId cannot both be set');
  }
  const jl = m.jobLogLevels ?? {};
  const peer = m.peer ?? 'sidekiq7';
  const dialect = dialectFor(peer);
  const sidekiqRegistry = dialect.processRegistry.kind === 'sidekiq';
  if (m.sidekiqMetrics && !dialect.executionMetrics) {
    throw new ConfigError('sidekiqMetrics', 'merged options', `peer ${peer} has no Web UI metrics page to write for; leave sidekiqMetrics unset or false, or use peer sidekiq7 or sidekiq8`);
  }
  if (m.sidekiqHeartbeat && !sidekiqRegistry) {
    throw new ConfigError('sidekiqHeartbeat', 'merged options', `peer ${peer} does not read Sidekiq's process heartbeat; leave sidekiqHeartbeat unset or false, or use a Sidekiq peer`);
  }
  return {
    redis: m.redis,
    queues: new Map(Object.entries(m.queues ?? { default: 10 })),
    nodeId: m.nodeId ?? (m.generateNodeId ? newJid('verk') : DEFAULT_NODE_ID),
    generateNodeId: m.generateNodeId ?? false,
    heartbeatMs: m.heartbeatMs ?? 30_000,
    sidekiqHeartbeat: m.sidekiqHeartbeat ?? sidekiqRegistry,
    pollIntervalMs: m.pollIntervalMs ?? 5_000,
    shutdownTimeoutMs: m.shutdownTimeoutMs ?? 25_000,
    maxRetries: m.maxRetries ?? 25,
    // Kept undefined until a dead entry is written: the default depends on the job's dialect.
    deadMaxJobs: m.deadMaxJobs,
    deadTimeoutSeconds: m.deadTimeoutSeconds,
    peer,
    namespace: m.namespace ?? dialect.defaultNamespace,
    resqueHeartbeatMs: m.resqueHeartbeatMs ?? RESQUE_HEARTBEAT_MS,
    logLevel: m.logLevel ?? 'info',
    jobLogLevels: { start: jl.start ?? 'debug', done: jl.done ?? 'info', fail: jl.fail ?? 'warn' },
    processing: m.processing ?? true,
    maxPayloadBytes: m.maxPayloadBytes ?? 8 * 1024 * 1024,
    verkQueueStats: m.verkQueueStats ?? false,
    blockTimeoutSeconds: m.blockTimeoutSeconds ?? 2,
    connectTimeoutMs: m.connectTimeoutMs ?? 15_000,
    prefetch: m.prefetch ?? 0,
    metricsPort: m.metricsPort,
    metricsHost: m.metricsHost ?? '0.0.0.0',
    tracing: m.tracing === true ? 'link' : (m.tracing ?? false),
    sidekiqMetrics: m.sidekiqMetrics ?? dialect.executionMetrics !== undefined,
  };
}
