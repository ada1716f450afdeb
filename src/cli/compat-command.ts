/**
 * `kiqgate compat`: replays captured fixtures (any directory in the FORMAT.md format) against a
 * Redis and reports, per scenario, which interop checks pass (a system or version kiqgate does
 * not speak, or a scenario no check applied to, is a failure). Exit 0 when all pass, 1 on any
 * failure, 2 when it cannot run (bad flags, no Redis, a namespace that is not empty). SIGINT or
 * SIGTERM during the fixture checks removes every key the run wrote, then exits 128 + the
 * signal's number (130 for Ctrl-C); a second one exits at once.
 */
import { constants } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodeCheck } from '../compat/checks/decode.js';
import { produceCheck } from '../compat/checks/produce.js';
import { roundtripCheck } from '../compat/checks/roundtrip.js';
import { runCheck } from '../compat/checks/run.js';
import { lifecycleCheck } from '../compat/checks/lifecycle.js';
import { failureLines, jsonReport, markdownMatrix, scenarioLine } from '../compat/report.js';
import { CompatInterruptedError, CompatSetupError, runCompat } from '../compat/runner.js';
import {
  LiveUnavailableError, checkLiveRequirements, liveCellLine, liveMarkdown, runLiveMatrix, type LiveReport,
} from '../compat/live/matrix.js';
import type { Check, CheckName } from '../compat/types.js';
import { packageRoot } from '../support/package-root.js';
import { redactUrl } from '../support/redact.js';
import { CliError } from './cli-error.js';
import { resolveRedisUrl } from './cli-redis.js';
import { parseFlags, usageHint } from './parse-flags.js';
import { printVersion } from './version.js';

const HELP = `Usage: kiqgate compat [--redis URL] [--fixtures DIR ...] [--live-sidekiq] [--json | --markdown [FILE]] [--namespace NS [--force]]

Replays captured Sidekiq/Verk/Exq fixtures against Redis and checks that kiqgate decodes,
re-encodes, runs, produces and handles the lifecycle of those jobs exactly as the peer did.
A scenario passes only when a check applied and every check that applied passed; one from a
system or version kiqgate does not speak (Resque, an ActiveJob before 6.1, a Sidekiq 5) fails, naming it.

  --redis URL        Redis to use (default: KIQGATE_REDIS_URL, else REDIS_URL, else
                     redis://127.0.0.1:6379); only keys under the suite's own prefix
                     are written, and removed afterwards
  --fixtures DIR     a directory of *.json fixtures, searched recursively (repeatable;
                     default: the fixtures shipped with kiqgate)
  --namespace NS     key prefix to work under (default: a fresh kiqgate-compat-<hex>)
  --force            use --namespace even when it already holds keys
  --live-sidekiq     also run the cross-runtime matrix against a real Sidekiq 6.4.1 (Debian's
                     ruby-sidekiq: its client, API and a sidekiq server process) and kiqgate's
                     Client and Worker, on a private redis-server that this command starts and
                     stops (never the --redis one); each cell is a report line. Without Ruby
                     Sidekiq it prints how to install it (compat/install-ruby-sidekiq.sh, or
                     apt-get install -y ruby-sidekiq) and exits 2
  --json             print a JSON report instead of text
  --markdown [FILE]  print (or write to FILE) the scenario × check matrix in Markdown`;

/** The checks this build runs (the engine-backed ones register themselves in compat/checks). */
export function compatChecks(): Partial<Record<CheckName, Check>> {
  return { decode: decodeCheck, roundtrip: roundtripCheck, run: runCheck, produce: produceCheck, lifecycle: lifecycleCheck };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('compat', {
    args: argv,
    allowPositionals: true,
    options: {
      redis: { type: 'string' }, fixtures: { type: 'string', multiple: true }, namespace: { type: 'string' },
      force: { type: 'boolean' }, 'live-sidekiq': { type: 'boolean' }, json: { type: 'boolean' }, markdown: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.version) return printVersion();
  if (values.json && values.markdown) throw new CliError(`give --json or --markdown, not both; see ${usageHint('compat')}`);
  const markdownFile = values.markdown ? positionals[0] : undefined;
  if (positionals.length > (values.markdown ? 1 : 0)) throw new CliError(`unexpected argument '${positionals.at(-1)}'; see ${usageHint('compat')}`);
  const live = values['live-sidekiq'] ?? false;
  if (live) {
    // Before anything runs: without Ruby Sidekiq the matrix cannot be run, and that is not a pass.
    try {
      checkLiveRequirements();
    } catch (err) {
      if (err instanceof LiveUnavailableError) throw new CliError(`kiqgate compat --live-sidekiq: ${err.message}`, 2);
      throw err;
    }
  }
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
  // Ctrl-C: runCompat removes what it wrote (its Sidekiq process keys included), then we exit.
  const interrupt = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (received) process.exit(128 + constants.signals[sig]); // a second one: do not wait for the cleanup
    received = sig;
    process.stderr.write(`kiqgate compat: ${sig} received: removing the keys written so far (send it again to exit at once)\n`);
    interrupt.abort();
  };
  opts.signal = interrupt.signal;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let outcome: Awaited<ReturnType<typeof runCompat>>;
  try {
    outcome = await runCompat(opts);
  } catch (err) {
    if (err instanceof CompatSetupError) throw new CliError(`${err.message} (Redis ${redactUrl(redisUrl)})`, 2);
    if (err instanceof CompatInterruptedError) throw new CliError(err.message, 128 + constants.signals[received ?? 'SIGINT']);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const { results, loadErrors } = outcome;
  for (const e of loadErrors) process.stderr.write(`kiqgate compat: skipped ${e}\n`);
  if (results.length === 0) throw new CliError(`no fixtures found in ${fixtureDirs.join(', ')}`, 2);
  let liveReport: LiveReport | undefined;
  if (live) {
    liveReport = await runLiveMatrix({
      onCell: (c) => { if (text) process.stdout.write(`${liveCellLine(c)}\n`); },
      say: (line) => { if (text) process.stdout.write(`${line}\n`); },
    });
  }
  const cells = liveReport?.cells ?? [];
  const passed = results.filter((r) => r.ok).length + cells.filter((c) => c.ok).length;
  const summary = `${passed} passed, ${results.length + cells.length - passed} failed`;
  if (values.json) {
    const doc = JSON.parse(jsonReport(results, { redis: redactUrl(redisUrl), fixtures: fixtureDirs })) as Record<string, unknown>;
    doc.summary = summary;
    if (liveReport) doc.live = liveReport;
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else if (values.markdown) {
    const liveMd = liveReport ? `\n\n${liveMarkdown(liveReport)}` : '';
    const md = `${markdownMatrix(results)}${liveMd}\n\n${summary}\n`;
    if (markdownFile) writeFileSync(markdownFile, md);
    else process.stdout.write(md);
  } else process.stdout.write(`${summary}\n`);
  return results.every((r) => r.ok) && cells.every((c) => c.ok) ? 0 : 1;
}
