/** `kiqgate queues`: each queue's size and latency (Sidekiq::Queue#size, #latency). */
import { CliError } from './cli-error.js';
import { ADMIN_FLAG_OPTIONS, ADMIN_FLAGS_HELP, printJson, withAdmin } from './admin-common.js';
import { seconds, table } from './admin-table.js';
import { parseFlags } from './parse-flags.js';
import { printVersion } from './version.js';

const HELP = `Usage: kiqgate queues [options]

Lists every queue with its size and latency: seconds since the job that runs next was
enqueued (Sidekiq::Queue#latency; 0 when empty or when the job carries no time, as Resque's).
Queues are the \`queues\` set's (Verk, which keeps none: the queue:* lists).

${ADMIN_FLAGS_HELP}

Exit codes: 0 printed, 2 bad flags or configuration, 1 Redis failed.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('queues', { args: argv, options: ADMIN_FLAG_OPTIONS, strict: true, allowPositionals: true });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.version) return printVersion();
  if (positionals.length > 0) throw new CliError(`queues takes no arguments, got ${JSON.stringify(positionals[0])}; see kiqgate queues --help`);
  const queues = await withAdmin(values, (admin) => admin.queues.all());
  if (values.json) {
    printJson(queues);
    return 0;
  }
  if (queues.length === 0) {
    process.stdout.write('no queues\n');
    return 0;
  }
  process.stdout.write(`${table(['queue', 'size', 'latency (s)'], queues.map((q) => [q.name, String(q.size), seconds(q.latency)]))}\n`);
  return 0;
}
