/**
 * `kiqgate processes [list] | quiet ID | stop ID`: the registered processes (Sidekiq::ProcessSet,
 * Exq nodes, Verk nodes, Resque workers), and Sidekiq's Process#quiet!/stop! through the
 * `<identity>-signals` list, which Sidekiq and kiqgate workers pop on their next beat.
 */
import { CliError } from './cli-error.js';
import { ADMIN_FLAG_OPTIONS, ADMIN_FLAGS_HELP, printJson, withAdmin } from './admin-common.js';
import { table, when } from './admin-table.js';
import { parseFlags } from './parse-flags.js';
import { printVersion } from './version.js';

const HELP = `Usage: kiqgate processes [list]
       kiqgate processes quiet ID     stop fetching new jobs (Sidekiq's TSTP; Exq too)
       kiqgate processes stop ID      quiet, then shut down within its timeout (Sidekiq's TERM)

Lists the registered processes with their queues, busy count and last beat. quiet and stop
LPUSH the signal onto <ID>-signals (EXPIRE 60 s) as Sidekiq's API does; the process acts
on its next heartbeat (within 5 s for Sidekiq 6, 10 s for 7 and 8). Verk nodes and Resque
workers take no signals through Redis.

${ADMIN_FLAGS_HELP}

Exit codes: 0 done, 2 bad flags or a signal this runtime does not take, 1 no process
with that ID, or Redis failed.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('processes', { args: argv, options: ADMIN_FLAG_OPTIONS, strict: true, allowPositionals: true });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.version) return printVersion();
  const [action = 'list', id, extra] = positionals;
  if (action !== 'list' && action !== 'quiet' && action !== 'stop') {
    throw new CliError(`unknown action ${JSON.stringify(action)} (actions: list, quiet, stop); see kiqgate processes --help`);
  }
  if (extra !== undefined) throw new CliError(`one process ID at a time, got also ${JSON.stringify(extra)}`);
  if (action === 'list') {
    if (id !== undefined) throw new CliError(`list takes no ID (got ${JSON.stringify(id)})`);
    const procs = await withAdmin(values, (admin) => admin.processes.list());
    if (values.json) printJson(procs);
    else if (procs.length === 0) process.stdout.write('no processes\n');
    else {
      process.stdout.write(`${table(['id', 'queues', 'busy', 'concurrency', 'quiet', 'beat', 'started'], procs.map((p) => [
        p.id, p.queues.join(',') || '-', String(p.busy), p.concurrency === undefined ? '-' : String(p.concurrency),
        p.quiet ? 'yes' : 'no', when(p.beatMs), when(p.startedAtMs),
      ]))}\n`);
    }
    return 0;
  }
  if (id === undefined || id === '') throw new CliError(`${action} needs a process ID (see kiqgate processes)`);
  await withAdmin(values, (admin) => (action === 'quiet' ? admin.processes.quiet(id) : admin.processes.stop(id)));
  if (values.json) printJson({ action, id, sent: true });
  else process.stdout.write(`${action} sent to ${id}\n`);
  return 0;
}
