/**
 * `kiqgate <command>`: the command-line entry point. Each command lives in its own module; this
 * file only dispatches and turns errors into one clear line (never a stack dump, never a password).
 */
import { isWireError } from '../wire/index.js';
import { ConfigError } from '../engine/config.js';
import { explainThrown } from '../support/describe-error.js';
import { redactText } from '../support/redact.js';
import { TlsConfigError } from '../support/tls.js';
import { CliError } from './cli-error.js';
import { printVersion } from './version.js';

const USAGE = `Usage: kiqgate <command> [options]

Commands:
  demo       start a worker, enqueue demo jobs (Sidekiq- and Verk-shaped), process them, exit
  worker     run jobs from Redis queues (--require ./workers.js --queue default:25 ...)
  enqueue    enqueue one job (--class C --args JSON [--queue Q] [--at ISO8601 | --in SECONDS] ...)
  compat     replay captured fixtures against Redis and check interop (--fixtures DIR, --live-sidekiq)
  stats      processed, failed, enqueued, set sizes, processes, busy, default latency
  queues     each queue's size and latency
  retries    list, retry, delete or kill retry entries (JID, or --all with --queue/--class)
  scheduled  list, retry (enqueue now), delete or kill scheduled jobs
  dead       list, retry or delete dead jobs
  failed     Resque's failure list: list, retry (requeue) or delete
  processes  list processes; quiet ID, stop ID
  help       show this text, or help for a command: kiqgate <command> --help

  -v, --version   print kiqgate's version (also: kiqgate <command> --version)

Redis: --redis URL, else KIQGATE_REDIS_URL, else REDIS_URL (default redis://127.0.0.1:6379).
Exit codes: 0 success, 2 a usage or configuration error (bad flag, value, URL, variable),
            1 a runtime failure (Redis unreachable or refusing, a job that could not be pushed).`;

type CommandModule = { run(argv: string[]): Promise<number> };

/** Commands by name: an explicit table, so a user-supplied name never reaches import(). */
const COMMANDS: ReadonlyMap<string, () => Promise<CommandModule>> = new Map([
  ['enqueue', () => import('./enqueue-command.js')],
  ['compat', () => import('./compat-command.js')],
  ['demo', () => import('./demo-command.js')],
  ['worker', () => import('./worker-command.js')],
  ['stats', () => import('./admin-stats-command.js')],
  ['queues', () => import('./admin-queues-command.js')],
  ['retries', () => import('./admin-sets-command.js').then((m) => m.forSet('retries'))],
  ['scheduled', () => import('./admin-sets-command.js').then((m) => m.forSet('scheduled'))],
  ['dead', () => import('./admin-sets-command.js').then((m) => m.forSet('dead'))],
  ['failed', () => import('./admin-sets-command.js').then((m) => m.forSet('failed'))],
  ['processes', () => import('./admin-processes-command.js')],
]);

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') return printVersion();
  const load = COMMANDS.get(name);
  if (!load) {
    process.stderr.write(`kiqgate: unknown command '${name}' (commands: ${[...COMMANDS.keys()].join(', ')}); see kiqgate --help\n`);
    return 2;
  }
  try {
    const mod = await load();
    return await mod.run(rest);
  } catch (err) {
    process.stderr.write(`kiqgate ${name}: ${describeError(err)}\n`);
    return exitCode(err);
  }
}

/**
 * The one exit-code model of every command: 2 when what the user gave is wrong (a flag, a
 * value, a URL, a variable, a config file: fixing the command line fixes it), 1 when the run
 * itself failed (CliError says which; anything unexpected is a runtime failure).
 */
export function exitCode(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (isWireError(err) || err instanceof ConfigError || err instanceof TlsConfigError) return 2;
  return 1;
}

/** One line for a user: the message (secrets scrubbed), the field when there is one. */
export function describeError(err: unknown): string {
  return redactText(explainThrown(err));
}

/**
 * Ends the process once a command is done, after stdout and stderr took what was written: a
 * timer or connection left open (by a workers module, say) must not keep a finished or failed
 * command alive.
 */
function exitWith(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

// Run when executed directly (bin/kiqgate.js imports this module for its side effect).
main(process.argv.slice(2)).then(exitWith, (err: unknown) => {
  process.stderr.write(`kiqgate: ${describeError(err)}\n`);
  exitWith(1);
});
