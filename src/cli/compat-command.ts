/**
 * `kiqgate compat`: replays captured fixtures (any directory in the FORMAT.md format) against a
 * Redis and reports, per scenario, which interop checks pass. Exit 0 when all pass, 1 on any
 * failure, 2 when it cannot run (bad flags, no Redis, a namespace that is not empty).
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeCheck } from '../compat/checks/decode.js';
import { produceCheck } from '../compat/checks/produce.js';
import { roundtripCheck } from '../compat/checks/roundtrip.js';
import { runCheck } from '../compat/checks/run.js';
import { lifecycleCheck } from '../compat/checks/lifecycle.js';
import { failureLines, jsonReport, markdownMatrix, scenarioLine, summaryLine } from '../compat/report.js';
import { CompatSetupError, runCompat } from '../compat/runner.js';
import type { Check, CheckName } from '../compat/types.js';
import { packageRoot } from '../support/package-root.js';
import { redactUrl } from '../support/redact.js';
import { CliError } from './cli-error.js';
import { resolveRedisUrl } from './cli-redis.js';

const HELP = `Usage: kiqgate compat [--redis URL] [--fixtures DIR ...] [--json | --markdown [FILE]] [--namespace NS [--force]]

Replays captured Sidekiq/Verk/Exq fixtures against Redis and checks that kiqgate decodes,
re-encodes, runs, produces and handles the lifecycle of those jobs exactly as the peer did.

  --redis URL        Redis to use (default: REDIS_URL or redis://127.0.0.1:6379); only keys
                     under the suite's own prefix are written, and removed afterwards
  --fixtures DIR     a directory of *.json fixtures, searched recursively (repeatable;
                     default: the fixtures shipped with kiqgate)
  --namespace NS     key prefix to work under (default: a fresh kiqgate-compat-<hex>)
  --force            use --namespace even when it already holds keys
  --json             print a JSON report instead of text
  --markdown [FILE]  print (or write to FILE) the scenario × check matrix in Markdown`;

/** The checks this build runs (the engine-backed ones register themselves in compat/checks). */
export function compatChecks(): Partial<Record<CheckName, Check>> {
  return { decode: decodeCheck, roundtrip: roundtripCheck, run: runCheck, produce: produceCheck, lifecycle: lifecycleCheck };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      redis: { type: 'string' }, fixtures: { type: 'string', multiple: true }, namespace: { type: 'string' },
      force: { type: 'boolean' }, json: { type: 'boolean' }, markdown: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.json && values.markdown) throw new CliError('give --json or --markdown, not both');
  const markdownFile = values.markdown ? positionals[0] : undefined;
  if (positionals.length > (values.markdown ? 1 : 0)) throw new CliError(`unexpected argument '${positionals.at(-1)}'\n\n${HELP}`);
  const redisUrl = resolveRedisUrl(values.redis);
  const fixtureDirs = (values.fixtures ?? [join(packageRoot(), 'fixtures')]).map((d) => resolve(d));
  const text = !values.json && !values.markdown;
  const opts: Parameters<typeof runCompat>[0] = {
    redisUrl,
    fixtureDirs,
    checks: compatChecks(),
    force: values.force ?? false,
    onResult: (r) => {
      if (!text) return;
      process.stdout.write(`${scenarioLine(r)}\n`);
      for (const l of failureLines(r)) process.stdout.write(`${l}\n`);
    },
  };
  if (values.namespace) opts.namespace = values.namespace;
  let outcome: Awaited<ReturnType<typeof runCompat>>;
  try {
    outcome = await runCompat(opts);
  } catch (err) {
    if (err instanceof CompatSetupError) throw new CliError(`${err.message} (Redis ${redactUrl(redisUrl)})`, 2);
    throw err;
  }
  const { results, loadErrors } = outcome;
  for (const e of loadErrors) process.stderr.write(`kiqgate compat: skipped ${e}\n`);
  if (results.length === 0) throw new CliError(`no fixtures found in ${fixtureDirs.join(', ')}`, 2);
  if (values.json) process.stdout.write(`${jsonReport(results, { redis: redactUrl(redisUrl), fixtures: fixtureDirs })}\n`);
  else if (values.markdown) {
    const md = `${markdownMatrix(results)}\n\n${summaryLine(results)}\n`;
    if (markdownFile) writeFileSync(markdownFile, md);
    else process.stdout.write(md);
  } else process.stdout.write(`${summaryLine(results)}\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}
