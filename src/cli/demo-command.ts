/**
 * `kiqgate demo`: the main job in one command. Starts a worker, enqueues jobs the way Ruby
 * (Sidekiq 7) and Elixir (Verk) would write them (big integers, unicode, a bulk push, a scheduled
 * job, one that fails once and is retried), processes them all, prints what each handler saw,
 * and exits. Works with nothing but redis-server installed: with no Redis answering it starts a
 * private one and stops it on exit. Everything lives under the `kiqgate-demo` key prefix.
 */
import { pino } from 'pino';
import { Client } from '../client/index.js';
import { Worker } from '../engine/index.js';
import type { NativeJson } from '../wire/index.js';
import { deleteKeys } from '../support/connection.js';
import { redactUrl } from '../support/redact.js';
import { CliError } from './cli-error.js';
import { connectForCli, redisForDemo } from './cli-redis.js';
import { parseFlags } from './parse-flags.js';
import { printVersion } from './version.js';

const NAMESPACE = 'kiqgate-demo';
const BULK = 200;

/** Shows args as JSON with BigInt digits kept (JSON.stringify cannot print a BigInt). */
function show(args: NativeJson[]): string {
  return JSON.stringify(args, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('demo', { args: argv, options: { redis: { type: 'string' }, 'private-redis': { type: 'boolean' }, verbose: { type: 'boolean', short: 'v' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } } });
  if (values.help) {
    process.stdout.write('Usage: kiqgate demo [--redis URL | --private-redis] [-v | --verbose] [--version]\n\nEnqueues Sidekiq- and Verk-shaped jobs, processes them with a kiqgate worker, and exits.\nWith no Redis answering (or with --private-redis) it runs a private redis-server for the demo.\n');
    return 0;
  }
  if (values.version) return printVersion();
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const target = await redisForDemo(values.redis, say, values['private-redis'] ?? false);
  const redis = await connectForCli(target.url);
  let worker: Worker | undefined;
  const cleanup = async () => {
    await worker?.stop();
    await deleteKeys(redis, `${NAMESPACE}:*`);
    redis.disconnect();
    await target.server?.stop();
  };
  const onSignal = () => { void cleanup().then(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await deleteKeys(redis, `${NAMESPACE}:*`);
    say(`kiqgate demo: Redis ${redactUrl(target.url)}, keys under '${NAMESPACE}:'`);
    let bulkDone = 0;
    let failedOnce = false;
    const expected = BULK + 5;
    let done = 0;
    let resolveAll!: () => void;
    const allDone = new Promise<void>((r) => { resolveAll = r; });
    const finished = () => { if (++done === expected) resolveAll(); };

    worker = new Worker({
      redis: target.url,
      namespace: NAMESPACE,
      queues: { default: 10, critical: 5 },
      pollIntervalMs: 500,
      shutdownTimeoutMs: 5000,
      // The demo's own lines tell the story; the worker's JSON log joins them only with --verbose
      // (at warn, FlakyJob's planned failure would print a raw JSON line in the middle).
      logger: pino({ level: values.verbose ? 'info' : 'error' }, pino.destination({ dest: 1, sync: true })), // in order with the demo's lines
      handlers: {
        HardJob: (args, ctx) => { say(`  ran HardJob      (Sidekiq 7 job, queue ${ctx.queue}) args=${show(args)}`); finished(); },
        ExampleWorker: (args) => { say(`  ran ExampleWorker (Verk job, args stored as a JSON string) args=${show(args)}`); finished(); },
        ReportJob: (args) => { say(`  ran ReportJob    (scheduled 1 s ahead) args=${show(args)}`); finished(); },
        BulkJob: () => { if (++bulkDone === BULK) say(`  ran ${BULK} BulkJob jobs pushed in one round trip`); finished(); },
        FlakyJob: {
          // Retry after 1 s instead of Sidekiq's 15+ s, so the demo is short.
          retryAt: (failedAt) => failedAt.getTime() + 1000,
          handler: (args, ctx) => {
            if (!failedOnce) {
              failedOnce = true;
              say('  FlakyJob failed on purpose: it goes to the retry set with Sidekiq\'s fields');
              throw new Error('flaky on purpose');
            }
            say(`  ran FlakyJob     on its retry (retry_count ${ctx.retryCount}) args=${show(args)}`);
            finished();
          },
        },
      },
    });
    await worker.start();

    // The worker is already running: jobs run as they arrive, so say so before the first one does.
    say(`enqueuing ${expected} jobs as Sidekiq 7 and Verk would; the worker runs them as they arrive:`);
    const sidekiq = new Client({ redis: target.url, namespace: NAMESPACE, peer: 'sidekiq7' });
    const verk = new Client({ redis: target.url, namespace: NAMESPACE, peer: 'verk' });
    try {
      await sidekiq.enqueue({ class: 'HardJob', args: [4611686018427387904n, 'héllo wörld 😀', { nested: [1.5, null, true] }], queue: 'critical' });
      await verk.enqueue({ class: 'ExampleWorker', args: [1, 2] });
      await sidekiq.enqueue({ class: 'ReportJob', args: ['monthly'], in: 1 });
      await sidekiq.enqueue({ class: 'FlakyJob', args: ['try again'] });
      await sidekiq.enqueueBulk({ class: 'BulkJob', args: Array.from({ length: BULK }, (_, i) => [i]) });
      await sidekiq.enqueue({ class: 'HardJob', args: [-9223372036854775808n, 'e\u0301'] });
    } finally {
      await sidekiq.close();
      await verk.close();
    }
    const timeout = setTimeout(() => resolveAll(), 60_000);
    await allDone;
    clearTimeout(timeout);
    if (done < expected) throw new CliError(`only ${done} of ${expected} demo jobs ran within 60 s`, 1);
    await worker.stop(); // flushes the last acks and stat increments
    const processed = await redis.get(`${NAMESPACE}:stat:processed`);
    const failed = await redis.get(`${NAMESPACE}:stat:failed`);
    say(`done: ${done} jobs ran; stat:processed=${processed ?? 0}, stat:failed=${failed ?? 0} (Sidekiq counts a failed run in both)`);
    return 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await cleanup();
  }
}
