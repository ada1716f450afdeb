/**
 * `kiqgate retries|scheduled|dead|failed <list|retry|delete|kill> [JID | --all] ...`: list the
 * entries of a sorted set (or Resque's failure list) and act on one entry by jid or on every
 * entry passing a filter. Every move is a compare-and-move of the exact bytes (src/admin).
 */
import type { Admin, BulkResult, EntryFilter, FailedEntry, JobEntry } from '../admin/index.js';
import type { AdminSetName } from '../wire/index.js';
import { CliError } from './cli-error.js';
import { ADMIN_FLAG_OPTIONS, ADMIN_FLAGS_HELP, positiveInt, printJson, withAdmin } from './admin-common.js';
import { progressBar } from './admin-progress.js';
import { table, when } from './admin-table.js';
import { parseFlags } from './parse-flags.js';
import { printVersion } from './version.js';

/** The command names, and the set each one is. */
export type SetCommand = AdminSetName | 'failed';

const ACTIONS = ['list', 'retry', 'delete', 'kill'] as const;
type Action = (typeof ACTIONS)[number];

function help(name: SetCommand): string {
  const what = name === 'failed'
    ? "Resque's failure list (--peer resque). retry requeues an entry as Resque::Failure.requeue\n(the entry stays, with retried_at); delete removes it. IDs: the payload's jid, else the id\nkiqgate derives from the payload (shown by list)."
    : `the ${name === 'retries' ? 'retry' : name === 'scheduled' ? 'schedule' : 'dead'} set. retry moves an entry to its queue now (Sidekiq's API: retries and\ndead entries get retry_count - 1 and a new enqueued_at; scheduled ones are added to their\nqueue as the poller would); kill moves it to dead, bytes unchanged; delete removes it.`;
  return `Usage: kiqgate ${name} [list] [--queue Q] [--class C] [--limit N]
       kiqgate ${name} retry|delete${name === 'failed' || name === 'dead' ? '' : '|kill'} JID
       kiqgate ${name} retry|delete${name === 'failed' || name === 'dead' ? '' : '|kill'} --all [--queue Q] [--class C]

Lists or acts on ${what}

  --queue Q            only entries of this queue
  --class C            only entries of this class (or wrapped class, for ActiveJob)
  --limit N            list at most N entries, newest first (default 100)
  --all                act on every entry passing --queue/--class (in batches of 1,000,
                       with a progress bar on stderr when it is a terminal)
${ADMIN_FLAGS_HELP}

Exit codes: 0 done (also when --all matched nothing), 2 bad flags or an action this
runtime does not have, 1 no entry with that JID, or Redis failed.`;
}

/** The `run` of one set's command. */
export function forSet(name: SetCommand): { run(argv: string[]): Promise<number> } {
  return { run: (argv) => run(name, argv) };
}

async function run(name: SetCommand, argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(name, {
    args: argv,
    options: { ...ADMIN_FLAG_OPTIONS, queue: { type: 'string', short: 'q' }, class: { type: 'string' }, limit: { type: 'string' }, all: { type: 'boolean' } },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(`${help(name)}\n`);
    return 0;
  }
  if (values.version) return printVersion();
  const [actionArg = 'list', jid, extra] = positionals;
  if (!(ACTIONS as readonly string[]).includes(actionArg)) {
    throw new CliError(`unknown action ${JSON.stringify(actionArg)} (actions: ${ACTIONS.join(', ')}); see kiqgate ${name} --help`);
  }
  const action = actionArg as Action;
  if (extra !== undefined) throw new CliError(`one JID at a time, got also ${JSON.stringify(extra)}; use --all with --queue/--class for many`);
  const filter: EntryFilter = { queue: values.queue, className: values.class };
  const filtered = values.queue !== undefined || values.class !== undefined;
  if (action === 'list') {
    if (jid !== undefined) throw new CliError(`list takes no JID (got ${JSON.stringify(jid)}); filter with --queue/--class`);
    if (values.all) throw new CliError('--all applies to retry, delete and kill; list shows entries up to --limit');
    const limit = positiveInt('--limit', values.limit, 100);
    return withAdmin(values, (admin) => list(admin, name, filter, limit, values.json === true));
  }
  if (values.limit !== undefined) throw new CliError('--limit applies to list only');
  if (values.all && jid !== undefined) throw new CliError(`give a JID or --all, not both (got JID ${JSON.stringify(jid)})`);
  if (!values.all && jid === undefined) throw new CliError(`${action} needs a JID, or --all (with --queue/--class to choose); see kiqgate ${name} --help`);
  if (!values.all && filtered) throw new CliError('--queue and --class choose entries for --all and list; with a JID, leave them out');
  const started = performance.now();
  const result = await withAdmin(values, (admin) => act(admin, name, action, jid, filter));
  const secs = (performance.now() - started) / 1000;
  if (values.json) printJson({ set: name, action, ...result, seconds: Number(secs.toFixed(3)) });
  else {
    const verb = { retry: name === 'failed' ? 'requeued' : 'retried', delete: 'deleted', kill: 'killed' }[action];
    process.stdout.write(`${verb} ${result.done} of ${result.matched} matched in ${name} (${result.gone} already gone, ${result.skipped} skipped) in ${secs.toFixed(2)} s\n`);
  }
  return 0;
}

async function act(admin: Admin, name: SetCommand, action: Exclude<Action, 'list'>, jid: string | undefined, filter: EntryFilter): Promise<BulkResult> {
  if (name === 'failed') {
    if (action === 'kill') throw new CliError('kill moves an entry to dead; a failure list has no dead set (use delete)');
    const failed = admin.failed();
    if (jid !== undefined) return failed.act(action, jid);
    return withBar(`${action} ${name}`, (update) => failed.actAll(action, filter, update));
  }
  const set = admin.set(name);
  if (jid !== undefined) return set.act(action, jid);
  return withBar(`${action} ${name}`, (update) => set.actAll(action, filter, update));
}

async function withBar<T>(label: string, fn: (update: ReturnType<typeof progressBar>['update']) => Promise<T>): Promise<T> {
  const bar = progressBar(label);
  try {
    return await fn(bar.update);
  } finally {
    bar.done();
  }
}

async function list(admin: Admin, name: SetCommand, filter: EntryFilter, limit: number, json: boolean): Promise<number> {
  if (name === 'failed') {
    const entries = await admin.failed().list(filter, limit);
    if (json) printJson(entries.map(failedJson));
    else if (entries.length === 0) process.stdout.write(`no entries in ${admin.failed().key}\n`);
    else {
      process.stdout.write(`${table(['id', 'class', 'queue', 'failed_at', 'exception', 'error'], entries.map((e) => [
        e.id ?? '-', e.className ?? (e.unreadable ? '(unreadable)' : '-'), e.queue ?? '-', e.failedAt ?? '-', e.exception ?? '-', e.error ?? e.unreadable ?? '-',
      ]))}\n`);
    }
    return 0;
  }
  const set = admin.set(name);
  const entries = await set.list(filter, limit);
  if (json) printJson(entries.map(entryJson));
  else if (entries.length === 0) process.stdout.write(`no entries in ${set.key}\n`);
  else {
    const failures = name !== 'scheduled';
    const header = ['at', 'jid', 'class', 'queue', ...(failures ? ['retry_count', 'error'] : ['args'])];
    process.stdout.write(`${table(header, entries.map((e) => [
      when(e.atMs), e.jid ?? '-', e.className ?? (e.undecodable ? '(undecodable)' : '-'), e.queue ?? '-',
      ...(failures ? [e.retryCount === undefined ? '-' : String(e.retryCount), e.errorClass ? `${e.errorClass}: ${e.errorMessage ?? ''}` : (e.errorMessage ?? e.undecodable ?? '-')] : [e.argsJson ?? e.undecodable ?? '-']),
    ]))}\n`);
  }
  return 0;
}

const iso = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString());

/** One entry for --json: its fields, and its exact bytes (`payload`, or `payload_base64` when not UTF-8). */
function entryJson(e: JobEntry) {
  const utf8 = e.undecodable === undefined || Buffer.from(e.raw.toString('utf8')).equals(e.raw);
  return {
    set: e.set, score: e.score, at: iso(e.atMs), jid: e.jid ?? null, class: e.className ?? null, queue: e.queue ?? null,
    retry_count: e.retryCount ?? null, error_class: e.errorClass ?? null, error_message: e.errorMessage ?? null,
    failed_at: iso(e.failedAtMs), retried_at: iso(e.retriedAtMs), enqueued_at: iso(e.enqueuedAtMs), dialect: e.dialect ?? null,
    undecodable: e.undecodable ?? null,
    ...(utf8 ? { payload: e.raw.toString('utf8') } : { payload_base64: e.raw.toString('base64') }),
  };
}

function failedJson(e: FailedEntry) {
  return {
    id: e.id ?? null, class: e.className ?? null, queue: e.queue ?? null, failed_at: e.failedAt ?? null, exception: e.exception ?? null,
    error: e.error ?? null, worker: e.worker ?? null, retried_at: e.retriedAt ?? null, unreadable: e.unreadable ?? null, entry: e.raw.toString('utf8'),
  };
}
