/**
 * `kiqgate enqueue`: push one job as the chosen peer's client would, print its jid.
 * `--args` is parsed losslessly: a 2^62 integer or a `1.0` float reaches Redis as written.
 */
import { Client } from '../client/index.js';
import { checkEnvNames, ConfigError } from '../engine/config.js';
import { type JobSpec, WireError, PEERS, isPeer, parseJson, JsonObject, type JsonValue } from '../wire/index.js';
import { CliError } from './cli-error.js';
import { connectForCli, resolveRedisUrl } from './cli-redis.js';
import { TLS_FLAG_OPTIONS, tlsFlagsHelp, useTlsFlags } from './cli-tls.js';
import { parseFlags, usageHint } from './parse-flags.js';
import { printVersion } from './version.js';
import { enqueueActiveJob } from './enqueue-activejob.js';

async function runActiveJob(values: Record<string, string | boolean | undefined>): Promise<number> {
  const v = values as Record<string, string | undefined>;
  for (const f of ['class', 'retry', 'jid', 'peer'] as const) {
    if (v[f] !== undefined) throw new CliError(`--${f} does not go with --activejob (the wrapper job's fields are ActiveJob's); see ${usageHint('enqueue')}`);
  }
  if (v.args === undefined) throw new CliError(`--args is required (a JSON array, e.g. '[1, "two"]'); see ${usageHint('enqueue')}`);
  try {
    checkEnvNames(process.env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
  const at = v.at !== undefined ? parseAt(v.at) : undefined;
  useTlsFlags(values);
  const redis = await connectForCli(resolveRedisUrl(v.redis));
  const opts: ConstructorParameters<typeof Client>[0] = { redis };
  if (v.namespace !== undefined) opts.namespace = v.namespace;
  const client = new Client(opts);
  try {
    const jid = await enqueueActiveJob(client, { ...v, activejob: v.activejob!, args: v.args }, at);
    process.stdout.write(`${jid}\n`);
    return 0;
  } finally {
    redis.disconnect();
  }
}

const HELP = `Usage: kiqgate enqueue --class CLASS --args JSON [options]
       kiqgate enqueue --activejob CLASS --args JSON [--target rails-6.1/sidekiq-6] [options]

  --redis URL          Redis URL (default: KIQGATE_REDIS_URL, else REDIS_URL, else
                       redis://127.0.0.1:6379)
  -q, --queue Q        queue name (default: default; no whitespace, ',' or ':')
  --class C            job class name (required)
  --args JSON          argument array, e.g. '[1, "two", 4611686018427387904]' (required)
  --at ISO8601         run at this time (or epoch seconds)
  --in SECONDS         run this many seconds from now
  --retry true|false|N retry setting (default: true)
  --peer P             sidekiq6 | sidekiq7 (default) | sidekiq8 | verk | exq | resque
                       (resque: no --at/--in/--retry/--jid; prints the id derived
                       from the payload, Resque jobs carry none)
  --namespace NS       key prefix (as redis-namespace applied it; default exq for
                       exq, resque for resque)
  --jid JID            use this job id
  --activejob C        a Rails ActiveJob class: push what perform_later pushes; --args in
                       ActiveJob's JSON form ({"_aj_serialized": ...}, "_aj_ruby2_keywords")
  --target T           with --activejob: rails-6.1/sidekiq-6 (default), rails-7.1/sidekiq-7, ...
  --priority N         with --activejob: ActiveJob's priority
${tlsFlagsHelp(23)}
  -h, --help           this text
  --version            kiqgate's version

Exit codes: 0 enqueued, 2 bad flags or configuration, 1 Redis failed (unreachable, refused).`;

function parseRetry(v: string): boolean | number {
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^\d+$/.test(v)) return Number(v);
  throw new WireError('invalid_option', `--retry must be true, false or a non-negative integer, got ${JSON.stringify(v)}`, 'retry');
}

function parseAt(v: string): Date | number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new WireError('invalid_option', `--at must be an ISO 8601 time (2026-12-01T10:00:00Z) or epoch seconds, got ${JSON.stringify(v)}`, 'at');
  return new Date(t);
}

function parseArgsJson(v: string): JsonValue[] {
  let parsed: JsonValue;
  try {
    parsed = parseJson(v);
  } catch (err) {
    throw new WireError('invalid_args', `--args is not valid JSON: ${(err as Error).message.replace(/^payload is not valid JSON: /, '')}`, 'args');
  }
  if (!Array.isArray(parsed)) {
    throw new WireError('invalid_args', `--args must be a JSON array, got ${parsed instanceof JsonObject ? 'an object' : typeof parsed === 'string' ? 'a string' : JSON.stringify(v).slice(0, 40)}`, 'args');
  }
  return parsed;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('enqueue', {
    args: argv,
    options: {
      redis: { type: 'string' }, queue: { type: 'string', short: 'q' }, class: { type: 'string' }, args: { type: 'string' },
      at: { type: 'string' }, in: { type: 'string' }, retry: { type: 'string' }, peer: { type: 'string' },
      namespace: { type: 'string' }, jid: { type: 'string' }, activejob: { type: 'string' }, target: { type: 'string' }, priority: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' },
      ...TLS_FLAG_OPTIONS,
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.version) return printVersion();
  if (values.activejob !== undefined) return runActiveJob(values); // ActiveJob hook (cli/enqueue-activejob.ts)
  if (!values.class) throw new CliError(`--class is required (the job class name); see ${usageHint('enqueue')}`);
  if (values.args === undefined) throw new CliError(`--args is required (a JSON array, e.g. '[1, "two"]'); see ${usageHint('enqueue')}`);
  try {
    // The same rule as the worker's: a mistyped KIQGATE_TLS_* must not be silently ignored.
    checkEnvNames(process.env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
  const peer = values.peer ?? 'sidekiq7';
  if (!isPeer(peer)) throw new CliError(`--peer must be one of ${PEERS.join(', ')}; got ${JSON.stringify(peer)}`);
  const spec: JobSpec = { class: values.class, args: parseArgsJson(values.args) };
  if (values.queue !== undefined) spec.queue = values.queue;
  if (values.retry !== undefined) spec.retry = parseRetry(values.retry);
  if (values.jid !== undefined) spec.jid = values.jid;
  if (values.at !== undefined) spec.at = parseAt(values.at);
  if (values.in !== undefined) {
    const n = Number(values.in);
    if (values.in.trim() === '' || !Number.isFinite(n)) throw new WireError('invalid_option', `--in must be a number of seconds, got ${JSON.stringify(values.in)}`, 'in');
    spec.in = n;
  }
  useTlsFlags(values);
  const redis = await connectForCli(resolveRedisUrl(values.redis));
  const opts: ConstructorParameters<typeof Client>[0] = { redis, peer };
  if (values.namespace !== undefined) opts.namespace = values.namespace;
  const client = new Client(opts);
  try {
    const jid = await client.enqueue(spec);
    process.stdout.write(`${jid}\n`);
    return 0;
  } finally {
    redis.disconnect();
  }
}
