/**
 * Flag parsing for every command: node:util parseArgs, plus the two things it does badly for a
 * user. A negative number after an option (`--timeout -1`) is taken as the option's value, so
 * the option's own check can say what range is expected (parseArgs calls it "ambiguous"). And
 * every parse error becomes one line naming the flag, plus where the help is, exit 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './cli-error.js';

type Options = NonNullable<ParseArgsConfig['options']>;

const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/** `--opt -5` / `-o -5` → `--opt=-5` for string options (before any `--`). */
function joinNegativeValues(args: readonly string[], options: Options): string[] {
  const byShort = new Map(Object.entries(options).filter(([, o]) => o.short).map(([name, o]) => [`-${o.short!}`, name]));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return [...out, ...args.slice(i)];
    const name = a.startsWith('--') ? a.slice(2) : byShort.get(a);
    const next = args[i + 1];
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** parseArgs's message, first sentence only, as the start of a line. */
function oneLine(err: Error & { code?: string }, args: readonly string[]): string {
  const ambiguous = /^Option '(-[^']*)' argument is ambiguous/.exec(err.message);
  if (ambiguous) {
    const at = args.indexOf(ambiguous[1]!);
    const got = at >= 0 ? args[at + 1] : undefined;
    const flag = ambiguous[1]!;
    return `${flag} needs a value${got === undefined ? '' : `, got ${JSON.stringify(got)}, which looks like an option (write ${flag}=${got} if it is the value)`}`;
  }
  const first = err.message.split('\n')[0]!.replace(/\. .*$/, '').replace(/\.$/, '');
  return first.charAt(0).toLowerCase() + first.slice(1);
}

/** parseArgs with negative-number values joined and errors turned into one-line usage errors (exit 2). */
export function parseFlags<T extends ParseArgsConfig & { options: Options }>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  const args = joinNegativeValues(config.args ?? [], config.options);
  try {
    return parseArgs({ ...config, args }) as ReturnType<typeof parseArgs<T>>;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      throw new CliError(`${oneLine(err as Error, args)}; see ${usageHint(command)}`, 2);
    }
    throw err;
  }
}

/** Where a command's help is: `kiqgate enqueue --help`. */
export function usageHint(command: string): string {
  return `kiqgate ${command} --help`;
}
