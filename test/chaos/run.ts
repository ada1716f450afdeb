/**
 * `npm run chaos [-- --quick] [-- --only killed,restart]`: kiqgate under faults, measured.
 *
 * Each scenario (one module in scenarios/) starts its own redis-server(s) on free ports and its
 * own worker processes, is bounded in time, and returns pass/fail with its figures. Whatever a
 * scenario does, every process it started is killed after it (also on an error or Ctrl-C). The
 * run ends with a summary table, the line `N passed, N failed`, the figures in
 * test/chaos/results/<date>[-quick].json, and exit code 1 when any scenario failed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ProcessGroup, killEverything } from './lib/children.js';
import { type Scenario, type ScenarioResult, ensureDir } from './lib/harness.js';
import { badinput } from './scenarios/badinput.js';
import { clockskew } from './scenarios/clockskew.js';
import { failover } from './scenarios/failover.js';
import { killed } from './scenarios/killed.js';
import { netcut } from './scenarios/netcut.js';
import { restart } from './scenarios/restart.js';
import { scriptflush } from './scenarios/scriptflush.js';

const SCENARIOS: Scenario[] = [killed, restart, scriptflush, failover, netcut, badinput, clockskew];

function parseArgs(argv: string[]): { quick: boolean; only: string[] | undefined; keep: boolean } {
  let quick = false;
  let keep = false;
  let only: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--keep') keep = true;
    else if (a === '--only') only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a.startsWith('--only=')) only = a.slice(7).split(',').filter(Boolean);
    else if (a === '--help' || a === '-h') {
      console.log(`usage: npm run chaos [-- --quick] [-- --only ${SCENARIOS.map((s) => s.name).join(',')}] [-- --keep]\n  --keep  keep the scenario directories (run logs, worker logs) for inspection`);
      process.exit(0);
    } else {
      console.error(`unknown argument ${a} (see --help)`);
      process.exit(2);
    }
  }
  const unknown = (only ?? []).filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) {
    console.error(`unknown scenario(s): ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
    process.exit(2);
  }
  return { quick, only, keep };
}

interface Outcome { name: string; title: string; durationMs: number; result: ScenarioResult }

async function runOne(s: Scenario, quick: boolean, root: string): Promise<Outcome> {
  const group = new ProcessGroup();
  const dir = ensureDir(join(root, s.name));
  const t0 = Date.now();
  console.log(`\n▶ ${s.name}: ${s.title}${quick ? ' (quick)' : ''}`);
  const say = (line: string) => console.log(`  ${line}`);
  const limit = quick ? s.timeoutMs.quick : s.timeoutMs.full;
  let timer: NodeJS.Timeout | undefined;
  let result: ScenarioResult;
  try {
    result = await Promise.race([
      s.run({ quick, dir, group, say }),
      new Promise<ScenarioResult>((resolve) => {
        timer = setTimeout(() => resolve({
          pass: false, failures: [`timed out after ${limit} ms (stuck)`], summary: 'timed out', figures: {},
        }), limit);
      }),
    ]);
  } catch (err) {
    result = { pass: false, failures: [`harness error: ${(err as Error).stack ?? String(err)}`], summary: 'error', figures: {} };
  } finally {
    clearTimeout(timer);
    await group.dispose();
  }
  const durationMs = Date.now() - t0;
  for (const f of result.failures) console.log(`  ✗ ${f}`);
  console.log(`  ${result.pass ? 'PASS' : 'FAIL'} ${s.name} in ${(durationMs / 1000).toFixed(1)} s`);
  return { name: s.name, title: s.title, durationMs, result };
}

function table(outcomes: Outcome[]): string {
  const rows = outcomes.map((o) => [o.name, o.result.pass ? 'pass' : 'FAIL', `${(o.durationMs / 1000).toFixed(1)} s`, o.result.summary]);
  const head = ['scenario', 'result', 'time', 'figures'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function redisVersion(): string {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return /v=(\S+)/.exec(r.stdout ?? '')?.[1] ?? 'unknown';
}

async function main(): Promise<void> {
  const { quick, only, keep } = parseArgs(process.argv.slice(2));
  const chosen = SCENARIOS.filter((s) => !only || only.includes(s.name));
  const root = mkdtempSync(join(tmpdir(), 'kiqgate-chaos-'));
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`\n${sig}: killing every process the chaos run started`);
    killEverything();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => killEverything());

  const t0 = Date.now();
  console.log(`kiqgate chaos ${quick ? '--quick ' : ''}: ${chosen.map((s) => s.name).join(', ')} (node ${process.version}, redis ${redisVersion()}, ${cpus().length} cpus)`);
  const outcomes: Outcome[] = [];
  for (const s of chosen) outcomes.push(await runOne(s, quick, root));

  const passed = outcomes.filter((o) => o.result.pass).length;
  const failed = outcomes.length - passed;
  console.log(`\n${table(outcomes)}`);

  const date = new Date().toISOString().slice(0, 10);
  const resultsDir = ensureDir(new URL('./results/', import.meta.url).pathname);
  const file = join(resultsDir, `${date}${quick ? '-quick' : ''}${only ? `-${chosen.map((s) => s.name).join('+')}` : ''}.json`);
  writeFileSync(file, `${JSON.stringify({
    date: new Date().toISOString(), quick, only: only ?? null, node: process.version, redis: redisVersion(), cpus: cpus().length,
    durationMs: Date.now() - t0,
    scenarios: outcomes.map((o) => ({ name: o.name, title: o.title, pass: o.result.pass, durationMs: o.durationMs, summary: o.result.summary, failures: o.result.failures, figures: o.result.figures })),
    passed, failed,
  }, null, 2)}\n`);
  console.log(`figures: ${file}${keep ? `\nlogs: ${root}` : ''}`);
  if (!keep) rmSync(root, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err);
  killEverything();
  process.exit(1);
});
