/**
 * `kiqgate compat` on the Resque 3.0.0 and 2.7.0 captures: every scenario passes with checks
 * that ran (none all-n/a), and a corrupted capture fails (so the pass means something).
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../../src/compat/types.js';
import { runCli } from '../support/cli.js';
import { FIXTURES_DIR } from '../support/fixtures.js';
import { TEST_REDIS_URL } from '../support/redis.js';

async function compat(dirs: string[]): Promise<{ code: number | null; results: ScenarioResult[] }> {
  const r = await runCli(['compat', '--redis', TEST_REDIS_URL, ...dirs.flatMap((d) => ['--fixtures', d]), '--json'], {}, 180_000);
  expect(r.code, r.stderr).not.toBe(2);
  return { code: r.code, results: (JSON.parse(r.stdout) as { results: ScenarioResult[] }).results };
}

describe('kiqgate compat on Resque fixtures', () => {
  it('passes all 26 scenarios of 3.0.0 and 2.7.0, each with checks that ran', async () => {
    const { code, results } = await compat([join(FIXTURES_DIR, 'resque-3.0.0'), join(FIXTURES_DIR, 'resque-2.7.0')]);
    expect(results.filter((r) => !r.ok).map((r) => `${r.name}: ${JSON.stringify(r.checks)}`)).toEqual([]);
    expect(code).toBe(0);
    expect(results).toHaveLength(26);
    for (const r of results) {
      expect(r.checks.decode.na, r.name).toBeUndefined();
      expect(r.checks.roundtrip.na, r.name).toBeUndefined();
    }
    const by = (name: string) => results.find((r) => r.name === name)!;
    for (const v of ['3.0.0', '2.7.0']) {
      expect(by(`resque-${v}/enqueue`).checks.produce.passed).toBe(1);
      expect(by(`resque-${v}/worker-failure`).checks.lifecycle.total).toBeGreaterThanOrEqual(2 + 3); // two failures + registry
      expect(by(`resque-${v}/malformed-job`).checks.lifecycle.total).toBeGreaterThanOrEqual(2); // both unreadable entries kept
    }
  });

  it('fails a worker-failure capture whose failure entry has its keys in another order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiqgate-compat-resque-'));
    cpSync(join(FIXTURES_DIR, 'resque-3.0.0', 'worker-failure.json'), join(dir, 'worker-failure.json'));
    const path = join(dir, 'worker-failure.json');
    // Swap exception and error in the RuntimeError entry Resque wrote.
    const text = readFileSync(path, 'utf8').replace('\\"exception\\":\\"RuntimeError\\",\\"error\\":\\"boom: 1\\"', '\\"error\\":\\"boom: 1\\",\\"exception\\":\\"RuntimeError\\"');
    expect(text).toContain('\\"error\\":\\"boom: 1\\",\\"exception\\"');
    writeFileSync(path, text);
    const { code, results } = await compat([dir]);
    expect(code).toBe(1);
    expect(results[0]!.checks.lifecycle.failures.join('\n')).toMatch(/failure of FailJob \(RuntimeError\): keys differ/);
  });
});
