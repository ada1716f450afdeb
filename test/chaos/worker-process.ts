/**
 * A kiqgate worker process for the chaos harness: one `Worker` from src/engine on one queue,
 * with generated Verk node ids and a short heartbeat so dead-node recovery is quick.
 *
 * The handler `ChaosJob` (args: [sleepMs]) sleeps, then records its run twice:
 * - a line `<jid> <real epoch ms> <node>` appended with a synchronous write to CHAOS_RUNLOG,
 *   so the record survives SIGKILL of this process and does not depend on the Redis under test
 *   (restart with a fresh server, failover); it is the harness's primary run record;
 * - `HINCRBY runs <jid> 1` on its own connection (the record; CHAOS_RECORD_REDIS=0 skips it).
 * The jid is also counted in `starts` when the handler begins.
 * The handler `HardWorker` (the class of the bad-input corpus's valid cases) records its run as
 * `sha1:<hex of the exact payload bytes>`, since those cases share one jid.
 *
 * stdout: one `{"type":"ready", nodeId, now, realNow}` line. SIGTERM/SIGINT or stdin closing
 * (the harness died): graceful stop, exit 0. Anything thrown out of the engine: exit 1.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { RedisOptions } from 'ioredis';
import { pino } from 'pino';
import { Worker } from '../../src/engine/index.js';
import { openRedis } from '../../src/support/connection.js';

const env = process.env;
const realNow: () => number = (globalThis as { __chaosRealNow?: () => number }).__chaosRealNow ?? Date.now;

function redisTarget(): string | RedisOptions {
  const r = env.CHAOS_REDIS ?? '';
  return r.startsWith('{') ? (JSON.parse(r) as RedisOptions) : r;
}

const logger = pino({ level: env.CHAOS_LOG_LEVEL ?? 'info', base: { pid: process.pid } }, pino.destination({ dest: env.CHAOS_LOG!, sync: false, mkdir: true }));
const runFd = openSync(env.CHAOS_RUNLOG!, 'a');
const recordInRedis = env.CHAOS_RECORD_REDIS !== '0';
const recorder = recordInRedis ? openRedis(redisTarget(), { connectionName: 'chaos:recorder' }).redis : undefined;
recorder?.on('error', () => undefined);
const queue = env.CHAOS_QUEUE ?? 'chaos';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const worker = new Worker({
  redis: redisTarget(),
  queues: { [queue]: Number(env.CHAOS_CONCURRENCY ?? 10) },
  generateNodeId: true,
  heartbeatMs: Number(env.CHAOS_HEARTBEAT_MS ?? 1000),
  pollIntervalMs: Number(env.CHAOS_POLL_MS ?? 500),
  shutdownTimeoutMs: 5_000,
  blockTimeoutSeconds: 1,
  logger,
  // No per-job "done" line (info by default): 20,000 jobs a run would bury the log's lines
  // about kills, recoveries and errors, which are what a chaos run's log is read for.
  jobLogLevels: { done: 'debug' },
  handlers: {
    ChaosJob: async (args, ctx) => {
      const jid = ctx.jid ?? '?';
      if (recorder) void recorder.hincrby('starts', jid, 1).catch(() => undefined);
      const ms = Number(args[0] ?? 0);
      if (ms > 0) await sleep(ms);
      writeSync(runFd, `${jid} ${realNow()} ${worker.nodeId}\n`);
      if (recorder) await recorder.hincrby('runs', jid, 1);
    },
    HardWorker: (_args, ctx) => {
      writeSync(runFd, `sha1:${createHash('sha1').update(ctx.job.raw).digest('hex')} ${realNow()} ${worker.nodeId}\n`);
    },
  },
});

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  try {
    await worker.stop();
    if (recorder) await recorder.quit().catch(() => recorder.disconnect());
  } catch (err) {
    logger.error({ err }, 'chaos worker: stop failed');
    code = code || 1;
  }
  closeSync(runFd);
  logger.flush();
  setTimeout(() => process.exit(code), 50);
}

process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
process.stdin.on('end', () => void shutdown(0));
process.stdin.on('error', () => void shutdown(0));
process.stdin.resume();
function die(what: string, err: unknown): never {
  process.stderr.write(`${what}: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  try {
    logger.fatal({ err }, `chaos worker: ${what}`);
    logger.flush();
  } catch { /* the log file may not be open yet */ }
  process.exit(1);
}
process.on('uncaughtException', (err) => die('uncaught exception', err));
process.on('unhandledRejection', (err) => die('unhandled rejection', err));

await worker.start().catch((err: unknown) => die('worker failed to start', err));
process.stdout.write(`${JSON.stringify({ type: 'ready', nodeId: worker.nodeId, pid: process.pid, now: Date.now(), realNow: realNow() })}\n`);
