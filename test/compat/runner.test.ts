/**
 * The compat runner itself: it passes the shipped fixtures, and a fixture with a corrupted
 * payload, a wrong timestamp unit or a missing field makes the matching check fail (the suite
 * can fail). Runs the real `kiqgate compat` command against the real Redis.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../../src/compat/types.js';
import { runCli } from '../support/cli.js';
import { FIXTURES_DIR } from '../support/fixtures.js';
import { TEST_REDIS_URL, testRedis, uniqueNamespace } from '../support/redis.js';

/** Writes a mutated copy of a shipped fixture into a fresh directory; returns the directory. */
function mutated(set: string, scenario: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiqgate-compat-'));
  mkdirSync(join(dir, set));
  const text = readFileSync(join(FIXTURES_DIR, set, `${scenario}.json`), 'utf8');
  const changed = edit(text);
  expect(changed, 'the edit must change the fixture').not.toBe(text);
  writeFileSync(join(dir, set, `${scenario}.json`), changed);
  return dir;
}

async function compatJson(dir: string): Promise<{ code: number | null; results: ScenarioResult[]; stderr: string }> {
  const r = await runCli(['compat', '--redis', TEST_REDIS_URL, '--fixtures', dir, '--json'], {}, 120_000);
  return { code: r.code, results: r.code === 2 ? [] : (JSON.parse(r.stdout) as { results: ScenarioResult[] }).results, stderr: r.stderr };
}

describe('kiqgate compat', () => {
  it('passes an unchanged fixture with every check applied and prints the closing line', async () => {
    const dir = mutated('sidekiq-7.3.10', 'worker-failure-retry', (t) => t.replace('"notes":', '"notes_copy": "unchanged", "notes":'));
    const r = await runCli(['compat', '--redis', TEST_REDIS_URL, '--fixtures', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS sidekiq-7\.3\.10\/worker-failure-retry {2}decode 4\/4, roundtrip 4\/4, run 2\/2, produce 2\/2, lifecycle \d+\/\d+$/m);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('1 passed, 0 failed');
  });

  it('fails decode when a payload is corrupted (args no longer an array)', async () => {
    const dir = mutated('sidekiq-6.4.1', 'push-simple', (t) => t.replaceAll('\\"args\\":[1,\\"two\\"]', '\\"args\\":\\"oops\\"'));
    const { code, results } = await compatJson(dir);
    expect(code).toBe(1);
    expect(results[0]!.ok).toBe(false);
    expect(results[0]!.checks.decode.failures.join('\n')).toContain('args');
  });

  it('fails decode and produce when a timestamp is written in the wrong unit (ms in a Sidekiq 7 job)', async () => {
    const dir = mutated('sidekiq-7.3.10', 'push-simple', (t) => t.replaceAll('\\"created_at\\":1795872564.5000064', '\\"created_at\\":1795872564500'));
    const { code, results } = await compatJson(dir);
    expect(code).toBe(1);
    expect(results[0]!.checks.decode.failures.join('\n')).toContain('detected sidekiq8, expected sidekiq7');
    expect(results[0]!.checks.produce.failures.join('\n')).toContain('created_at format differs: expected int_ms, got float_s');
  });

  it('fails produce when a field is missing from the peer\'s payload (kiqgate writes a jid, the corrupted fixture has none)', async () => {
    const dir = mutated('sidekiq-8.1.7', 'push-simple', (t) => t.replace(/\\"jid\\":\\"[0-9a-f]{24}\\",/, ''));
    const { code, results } = await compatJson(dir);
    expect(code).toBe(1);
    expect(results[0]!.checks.produce.failures.join('\n')).toMatch(/keys differ: expected \[retry, queue, class, args, created_at, enqueued_at\], got \[retry, queue, class, args, jid, created_at, enqueued_at\]/);
  });

  it('says n/a (never PASS) for a check that does not apply', async () => {
    const dir = mutated('verk-1.7.3', 'enqueue', (t) => t.replace('"notes":', '"notes_copy": "x", "notes":'));
    const { results } = await compatJson(dir);
    expect(results[0]!.checks.lifecycle.na).toBeDefined();
    expect(results[0]!.checks.lifecycle.total).toBe(0);
  });

  it('refuses a namespace that already holds keys, and reports an unreachable Redis in one line', async () => {
    const redis = testRedis();
    const ns = uniqueNamespace('taken');
    await redis.set(`${ns}:mine`, 'user data');
    try {
      const r = await runCli(['compat', '--redis', TEST_REDIS_URL, '--namespace', ns]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`namespace '${ns}' already holds keys`);
      expect(await redis.get(`${ns}:mine`)).toBe('user data');
    } finally {
      await redis.del(`${ns}:mine`);
      await redis.quit();
    }
    const down = await runCli(['compat', '--redis', 'redis://:pw-secret@127.0.0.1:1']);
    expect(down.code).toBe(2);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    expect(down.stderr).not.toContain('pw-secret');
  });
});
