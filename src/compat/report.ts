/** The compat suite's reports: one text line per scenario, JSON for machines, a Markdown matrix. */
import { CHECKS, type CheckResult, type ScenarioResult } from './types.js';

function cell(c: CheckResult): string {
  return c.na ? 'n/a' : `${c.passed}/${c.total}`;
}

/** `PASS sidekiq-7.3.10/worker-failure-retry  decode 4/4, roundtrip 4/4, run n/a, ...` */
export function scenarioLine(r: ScenarioResult): string {
  const groups = CHECKS.map((n) => `${n} ${cell(r.checks[n])}`).join(', ');
  return `${r.ok ? 'PASS' : 'FAIL'} ${r.name}  ${groups}`;
}

/** The failure details under a FAIL line, indented. */
export function failureLines(r: ScenarioResult): string[] {
  const out: string[] = r.failures.map((f) => `    ${r.name}: ${f}`);
  for (const n of CHECKS) for (const f of r.checks[n].failures) out.push(`    ${n}: ${f}`);
  return out;
}

/** The closing line, one count per scenario. */
export function summaryLine(results: ScenarioResult[]): string {
  const passed = results.filter((r) => r.ok).length;
  return `${passed} passed, ${results.length - passed} failed`;
}

export function jsonReport(results: ScenarioResult[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...extra, summary: summaryLine(results), results }, null, 2);
}

/** A Markdown table: scenario × check, with a ✅/❌ per scenario. */
export function markdownMatrix(results: ScenarioResult[]): string {
  const head = `| scenario | result | ${CHECKS.join(' | ')} |\n|---|---|${CHECKS.map(() => '---').join('|')}|`;
  const rows = results.map((r) => `| ${r.name} | ${r.ok ? 'pass' : '**FAIL**'} | ${CHECKS.map((n) => cell(r.checks[n])).join(' | ')} |`);
  return [head, ...rows].join('\n');
}
