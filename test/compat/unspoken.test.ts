/**
 * The compat suite cannot pass what kiqgate does not speak: a fixture captured from a system or
 * version outside the dialects' release lines (Resque 1.27, an ActiveJob before 6.1, a Sidekiq 5) fails naming it, and
 * a scenario in which no check applied fails saying so. Copies of one Resque capture relabelled 1.27.4 and one
 * ActiveJob 6.1 fixture are in fixtures-unspoken/. Runs the real `kiqgate compat` on the real Redis.
 */
import { cpSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Fixture } from '../../src/compat/fixture.js';
import { decodeCheck } from '../../src/compat/checks/decode.js';
import { runCompat } from '../../src/compat/runner.js';
import type { ScenarioResult } from '../../src/compat/types.js';
import { runCli } from '../support/cli.js';
import { FIXTURES_DIR } from '../support/fixtures.js';
import { TEST_REDIS_URL } from '../support/redis.js';

const UNSPOKEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures-unspoken');
const KNOWN = '(known: sidekiq 6.x/7.x/8.x, verk 1.7, exq 0.23, resque 3.0/2.7)';

/** One fixture (`<set>/<scenario>.json` under `from`), edited, alone in a fresh directory. */
function only(from: string, set: string, scenario: string, edit: (f: Fixture) => void = () => {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiqgate-compat-'));
  mkdirSync(join(dir, set));
  const f = JSON.parse(readFileSync(join(from, set, `${scenario}.json`), 'utf8')) as Fixture;
  edit(f);
  writeFileSync(join(dir, set, `${scenario}.json`), JSON.stringify(f));
  return dir;
}

async function compat(dir: string, json: boolean) {
  return runCli(['compat', '--redis', TEST_REDIS_URL, '--fixtures', dir, ...(json ? ['--json'] : [])], {}, 120_000);
}

async function compatResults(dir: string): Promise<{ code: number | null; results: ScenarioResult[] }> {
  const r = await compat(dir, true);
  expect(r.code, r.stderr).not.toBe(2);
  return { code: r.code, results: (JSON.parse(r.stdout) as { results: ScenarioResult[] }).results };
}

describe('kiqgate compat on what kiqgate does not speak', () => {
  it('fails a Resque 1.27.4 scenario (a line kiqgate does not speak; the copy is the 3.0.0 capture relabelled), naming the system and version, and exits 1', async () => {
    const dir = only(UNSPOKEN_DIR, 'resque-1.27.4', 'enqueue');
    const r = await compat(dir, false);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL resque-1\.27\.4\/enqueue {2}/m);
    expect(r.stdout).toContain(`resque-1.27.4/enqueue: kiqgate does not speak Resque 1.27.4 ${KNOWN}`);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('0 passed, 1 failed');
  });

  it('fails an ActiveJob scenario of a version kiqgate does not read (5.2, relabelled), naming it, and exits 1', async () => {
    const { code, results } = await compatResults(only(UNSPOKEN_DIR, 'activejob-6.1-sidekiq-6.4.1', 'perform-later', (f) => {
      f.version = '5.2.8';
      f.libraries = { ...f.libraries, activejob: '5.2.8' };
    }));
    expect(code).toBe(1);
    expect(results).toHaveLength(1);
    expect(results[0]!.ok).toBe(false);
    expect(results[0]!.failures.join('\n')).toContain('kiqgate does not speak ActiveJob 5.2.8 over Sidekiq 6.4.1 (known: ActiveJob 6.1 to 8.1 over sidekiq 6.x/7.x/8.x)');
  });

  it('checks the version too: the same Sidekiq fixture recorded as Sidekiq 5.2.0 fails naming it', async () => {
    const dir = only(FIXTURES_DIR, 'sidekiq-6.4.1', 'push-simple', (f) => { f.version = '5.2.0'; });
    const { code, results } = await compatResults(dir);
    expect(code).toBe(1);
    expect(results[0]!.ok).toBe(false);
    expect(results[0]!.failures).toEqual([`kiqgate does not speak Sidekiq 5.2.0 ${KNOWN}`]);
  });

  it('fails a scenario in which every check was n/a, saying why each did not apply, and exits 1', async () => {
    const dir = only(FIXTURES_DIR, 'sidekiq-6.4.1', 'push-simple', (f) => { f.commands = []; f.state = {}; });
    const r = await compat(dir, false);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL sidekiq-6\.4\.1\/push-simple {2}decode n\/a, roundtrip n\/a, run n\/a, produce n\/a, lifecycle n\/a$/m);
    expect(r.stdout).toContain('sidekiq-6.4.1/push-simple: every check was n/a, so nothing was checked (decode: no job payloads in this fixture;');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('0 passed, 1 failed');
  });

  it('passes a spoken fixture in the same run, and the run exits 1 for the unspoken one next to it', async () => {
    const dir = only(FIXTURES_DIR, 'sidekiq-6.4.1', 'push-simple');
    cpSync(join(UNSPOKEN_DIR, 'resque-1.27.4'), join(dir, 'resque-1.27.4'), { recursive: true });
    const r = await compat(dir, false);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^PASS sidekiq-6\.4\.1\/push-simple /m);
    expect(r.stdout).toMatch(/^FAIL resque-1\.27\.4\/enqueue /m);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('1 passed, 1 failed');
  });

  it('fails a scenario whose checks were not all run (runCompat given only the decode check)', async () => {
    const dir = only(FIXTURES_DIR, 'sidekiq-6.4.1', 'push-simple');
    const { results } = await runCompat({ redisUrl: TEST_REDIS_URL, fixtureDirs: [dir], checks: { decode: decodeCheck } });
    expect(results[0]!.checks.decode.failures).toEqual([]);
    expect(results[0]!.checks.decode.total).toBeGreaterThan(0);
    expect(results[0]!.ok).toBe(false);
    expect(results[0]!.failures).toContain('the roundtrip check was not run (none was given)');
  });
});
