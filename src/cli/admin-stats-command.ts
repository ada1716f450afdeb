/** `kiqgate stats`: what Sidekiq::Stats reports, for the chosen layout. */
import { CliError } from './cli-error.js';
import { ADMIN_FLAG_OPTIONS, ADMIN_FLAGS_HELP, printJson, withAdmin } from './admin-common.js';
import { seconds, table } from './admin-table.js';
import { parseFlags } from './parse-flags.js';
import { printVersion } from './version.js';

const HELP = `Usage: kiqgate stats [options]

Prints what Sidekiq::Stats reports: processed, failed, enqueued, the scheduled/retry/dead
sizes (Resque: the failed list), processes, busy, and the default queue's latency.

${ADMIN_FLAGS_HELP}

Exit codes: 0 printed, 2 bad flags or configuration, 1 Redis failed.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('stats', { args: argv, options: ADMIN_FLAG_OPTIONS, strict: true, allowPositionals: true });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.version) return printVersion();
  if (positionals.length > 0) throw new CliError(`stats takes no arguments, got ${JSON.stringify(positionals[0])}; see kiqgate stats --help`);
  const stats = await withAdmin(values, (admin) => admin.stats());
  if (values.json) {
    printJson(stats);
    return 0;
  }
  const rows: Array<[string, string]> = [
    ['processed', String(stats.processed)],
    ['failed', String(stats.failed)],
    ['enqueued', String(stats.enqueued)],
  ];
  if (stats.scheduledSize !== null) rows.push(['scheduled', String(stats.scheduledSize)]);
  if (stats.retrySize !== null) rows.push(['retries', String(stats.retrySize)]);
  if (stats.deadSize !== null) rows.push(['dead', String(stats.deadSize)]);
  if (stats.failedListSize !== null) rows.push(['failed list', String(stats.failedListSize)]);
  rows.push(['processes', String(stats.processesSize)], ['busy', String(stats.workersSize)], ['default latency (s)', seconds(stats.defaultQueueLatency)]);
  process.stdout.write(`${table(['stat', 'value'], rows)}\n`);
  return 0;
}
