/**
 * `kiqgate worker`: runs a Worker from the command line until SIGTERM/SIGINT.
 *
 *   kiqgate worker --redis URL --require ./workers.js --queue default:25 --queue critical:10
 *                  [--node-id ID | --generate-node-id] [--concurrency N] [--prefetch N] [--timeout SECONDS]
 *                  [--namespace NS] [--peer sidekiq6|sidekiq7|sidekiq8|verk|exq|resque] [--config FILE]
 *                  [--metrics-port PORT [--metrics-host HOST]] [--tracing]
 *
 * Options merge as API < config file < environment < flags (see engine/config.ts). The workers
 * module's shapes are described at loadWorkersModule (workers-module.ts); it may export `startup` and
 * `shutdown` hooks beside its handlers. SIGTERM/SIGINT stop gracefully (running jobs get
 * `--timeout` seconds, then go back to their queues); a second SIGTERM/SIGINT forces the stop
 * (running jobs are aborted and given back now); SIGTSTP quiets. Once stopped (and the shutdown
 * hook has run) the command returns and the CLI ends the process, so a timer or connection the
 * module left open cannot keep it alive. Logs are pino JSON on stdout; a Redis password never
 * appears in a log line or an error.
 */
import { pino } from 'pino';
import { ConfigError, type WorkerOptions, Worker, parseQueueSpec, resolveConfig } from '../engine/index.js';
import { aboutDays, checkConcurrency, checkPort, checkPrefetch, MAX_CONCURRENCY, MAX_SHUTDOWN_TIMEOUT_MS } from '../engine/config.js';
import { redactText } from '../support/redact.js';
import { CliError } from './cli-error.js';
import { connectForCli, resolveRedisUrl } from './cli-redis.js';
import { TLS_FLAG_OPTIONS, tlsFlagsHelp, useTlsFlags } from './cli-tls.js';
import { parseFlags, usageHint } from './parse-flags.js';
import { printVersion } from './version.js';
import { loadWorkersModule } from './workers-module.js';

const USAGE = `kiqgate worker --require ./workers.js [options]

  --redis URL             Redis URL (default: KIQGATE_REDIS_URL, else REDIS_URL, else
                          redis://127.0.0.1:6379)
  -r, --require PATH      module exporting the handlers (Map or object: class name → handler)
                          and optionally startup/shutdown hooks
  -q, --queue NAME[:N]    a queue and its concurrency N (repeatable; default: default:10);
                          N is how many jobs of that queue run at once (not Sidekiq's weight)
  -c, --concurrency N     concurrency of queues given without :N (or of every queue), 1-${MAX_CONCURRENCY}
  --prefetch N            jobs per queue fetched before a slot is free to start them (default 0:
                          waiting jobs stay in the queue, visible to Sidekiq and other consumers)
  --node-id ID            fixed node id (in-progress lists inprogress:<q>:<ID>; default "kiqgate_1")
  --generate-node-id      random node id, with Verk node heartbeat and dead-node recovery
  -t, --timeout SECONDS   shutdown timeout for running jobs (default 25)
  --namespace NS          key prefix (redis-namespace style; default the peer's: exq, resque)
  --peer PEER             runtime to stand in for (failure entries, process registry):
                          sidekiq6 | sidekiq7 | sidekiq8 | verk | exq | resque (default sidekiq7);
                          resque: resque:queue:<q> head first, failures to resque:failed,
                          Resque's worker registry and stats
  --config FILE           JSON config file (same option names as the API)
  --log-level LEVEL       trace | debug | info | warn | error | fatal | silent
  --no-processing         run the scheduler and heartbeat only, fetch nothing
  --metrics-port PORT     serve Prometheus metrics on http://HOST:PORT/metrics (README, Operations)
  --metrics-host HOST     address the metrics server listens on (default 0.0.0.0)
  --tracing               OpenTelemetry consumer spans (needs @opentelemetry/api installed),
                          each linked to its producer's span (as Ruby's instrumentation)
  --tracing-child         the same, each span a child of its producer's (one trace)
${tlsFlagsHelp(26)}
  -h, --help              this text
  --version               kiqgate's version

Environment: REDIS_URL, KIQGATE_QUEUES, KIQGATE_NODE_ID, KIQGATE_SHUTDOWN_TIMEOUT_MS, ... (KIQGATE_*;
             an unknown KIQGATE_* variable is an error)
Exit codes: 2 bad flags or configuration, 1 a runtime failure (Redis unreachable, ...).
Memory: where it is tight, NODE_OPTIONS=--max-semi-space-size=2 caps the V8 young generation
        (README, "Worker memory").`;

/** Runs the worker until a stop signal; resolves to the process exit code. */
export async function runWorkerCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags('worker', {
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      redis: { type: 'string' },
      require: { type: 'string', short: 'r' },
      queue: { type: 'string', short: 'q', multiple: true },
      concurrency: { type: 'string', short: 'c' },
      prefetch: { type: 'string' },
      'node-id': { type: 'string' },
      'generate-node-id': { type: 'boolean' },
      timeout: { type: 'string', short: 't' },
      namespace: { type: 'string' },
      peer: { type: 'string' },
      config: { type: 'string' },
      'log-level': { type: 'string' },
      'no-processing': { type: 'boolean' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      tracing: { type: 'boolean' },
      'tracing-child': { type: 'boolean' },
      ...TLS_FLAG_OPTIONS,
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.version) return printVersion();
  if (!values.require) throw new CliError(`--require is needed: the module that exports the handlers; see ${usageHint('worker')}`);
  useTlsFlags(values);

  const cli: WorkerOptions = {};
  let concurrency: number | undefined;
  try {
    if (values.concurrency !== undefined) {
      concurrency = checkConcurrency(values.concurrency, '--concurrency', 'command line');
    }
    if (values.queue) cli.queues = Object.fromEntries(values.queue.map((q) => parseQueueSpec(q, 'command line', concurrency ?? 10)));
    if (values.prefetch !== undefined) cli.prefetch = checkPrefetch(values.prefetch, 'command line', '--prefetch');
    if (values.redis !== undefined) cli.redis = values.redis;
    if (values['node-id'] !== undefined) cli.nodeId = values['node-id'];
    if (values['generate-node-id']) cli.generateNodeId = true;
    if (values.timeout !== undefined) {
      const s = Number(values.timeout);
      if (!Number.isFinite(s) || s < 0) throw new ConfigError('--timeout', 'command line', `expected seconds ≥ 0, got ${JSON.stringify(values.timeout)}`);
      // Checked here, in seconds, so the error names the flag rather than shutdownTimeoutMs.
      if (Math.round(s * 1000) > MAX_SHUTDOWN_TIMEOUT_MS) {
        throw new ConfigError('--timeout', 'command line', `expected at most ${Math.floor(MAX_SHUTDOWN_TIMEOUT_MS / 1000)} seconds (about ${aboutDays(MAX_SHUTDOWN_TIMEOUT_MS)} days, the longest timer Node runs), got ${JSON.stringify(values.timeout)}`);
      }
      cli.shutdownTimeoutMs = Math.round(s * 1000);
    }
    if (values.namespace !== undefined) cli.namespace = values.namespace;
    if (values.peer !== undefined) cli.peer = values.peer as WorkerOptions['peer'];
    if (values['log-level'] !== undefined) cli.logLevel = values['log-level'] as WorkerOptions['logLevel'];
    if (values['no-processing']) cli.processing = false;
    if (values['metrics-port'] !== undefined) cli.metricsPort = checkPort(values['metrics-port'], '--metrics-port', 'command line');
    if (values['metrics-host'] !== undefined) cli.metricsHost = values['metrics-host'];
    if (values.tracing) cli.tracing = 'link';
    if (values['tracing-child']) cli.tracing = 'child';
  } catch (err) {
    throw new CliError(redactText((err as Error).message));
  }

  let config;
  try {
    config = resolveConfig({ file: values.config, env: process.env, cli });
  } catch (err) {
    throw new CliError(redactText((err as Error).message));
  }
  // --concurrency without --queue: every queue from the lower layers gets that concurrency.
  if (concurrency !== undefined && !values.queue) for (const q of config.queues.keys()) config.queues.set(q, concurrency);

  const workers = await loadWorkersModule(values.require);
  if (config.redis === undefined || typeof config.redis === 'string') {
    // Fail fast with one clear (redacted) line when Redis does not answer; the worker itself retries forever.
    config.redis = resolveRedisUrl(config.redis);
    const probe = await connectForCli(config.redis);
    probe.disconnect();
  }
  // Synchronous writes: pino's default stdout stream writes asynchronously, and its flush() does
  // not wait for a write in flight, so a line written just before the explicit exit could land
  // after a later one, or not at all. A worker's last line must be its last word.
  const logger = pino({ level: config.logLevel, base: { pid: process.pid } }, pino.destination({ dest: 1, sync: true }));
  const worker = new Worker({ ...workers, logger }, config);

  // The first SIGTERM/SIGINT stops gracefully, the second forces the stop.
  let stopping: 'not asked' | 'gracefully' | 'now' = 'not asked';
  const onStop = (sig: NodeJS.Signals) => {
    if (stopping === 'not asked') {
      stopping = 'gracefully';
      logger.info({ signal: sig }, 'signal received: stopping gracefully (send it again to stop now)');
      void worker.stop();
    } else if (stopping === 'gracefully') {
      stopping = 'now';
      logger.warn({ signal: sig }, 'second signal received: stopping now (running jobs are aborted and given back to their queues)');
      void worker.stop({ force: true });
    }
  };
  const onQuiet = () => {
    logger.info({ signal: 'SIGTSTP' }, 'signal received: quiet (no new jobs)');
    worker.quiet();
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGTSTP', onQuiet);
  try {
    await worker.start();
    await worker.stopped;
    return 0;
  } catch (err) {
    logger.error({ err: redactText((err as Error).message) }, 'worker failed');
    await worker.stop().catch(() => undefined);
    throw new CliError(redactText((err as Error).message), 1);
  } finally {
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    process.off('SIGTSTP', onQuiet);
  }
}

/** The CLI's command-module entry point (src/cli/main.ts calls `run`). */
export const run = runWorkerCommand;
