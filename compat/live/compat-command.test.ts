/**
 * `kiqgate compat --live-sidekiq`, run as the real command (bin/kiqgate.js): the live matrix
 * against a real Sidekiq 6.4.1 on the private redis-server the command starts, its lines, its
 * closing count, --json and --markdown; and exit 2 with the install hint where Ruby is missing.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { packageRoot } from '../../src/support/package-root.js';
import { LIVE_DIRECTIONS, LIVE_ROWS } from '../../src/compat/live/matrix.js';
import { requireRubySidekiq } from './sidekiq.js';

let server: RedisServerHandle;
let dir: string;
/** One small fixture directory, so the command's fixture part is quick. */
const FIXTURES = join(packageRoot(), 'fixtures', 'sidekiq-6.4.1');

beforeAll(async () => {
  server = await startRedisServer();
  dir = mkdtempSync(join(tmpdir(), 'kiqgate-live-cli-'));
});

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const EXPECTED_CELLS = 11;

describe('kiqgate compat --live-sidekiq', () => {
  it('says in --help that it starts a private redis-server', async () => {
    const r = await runCli(['compat', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--live-sidekiq');
    expect(r.stdout).toMatch(/private redis-server that this command starts\s+and\s+stops \(never the --redis one\)/);
  });

  it('prints one PASS line per matrix cell and counts them in the closing line', async () => {
    requireRubySidekiq();
    const r = await runCli(['compat', '--live-sidekiq', '--redis', server.url, '--fixtures', FIXTURES], {}, 300_000);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    const liveLines = lines.filter((l) => / live /.test(l) && /^(PASS|FAIL) /.test(l));
    expect(liveLines, r.stdout).toHaveLength(EXPECTED_CELLS);
    expect(liveLines.every((l) => l.startsWith('PASS live ')), r.stdout).toBe(true);
    expect(liveLines.some((l) => l.startsWith('PASS live ruby→kiqgate run now  '))).toBe(true);
    expect(liveLines.some((l) => l.startsWith('PASS live kiqgate→ruby stats  '))).toBe(true);
    expect(lines).toContainEqual(expect.stringMatching(/^live: a private redis-server at redis:\/\/127\.0\.0\.1:\d+ \(stopped afterwards\)$/));
    const scenarios = lines.filter((l) => /^(PASS|FAIL) sidekiq-6\.4\.1\//.test(l)).length;
    expect(scenarios).toBeGreaterThan(0);
    expect(lines.at(-1)).toBe(`${scenarios + EXPECTED_CELLS} passed, 0 failed`);
    expect(r.code).toBe(0);
  }, 300_000);

  it('includes the cells in --json and the peer × direction matrix in --markdown', async () => {
    requireRubySidekiq();
    const json = await runCli(['compat', '--live-sidekiq', '--json', '--redis', server.url, '--fixtures', FIXTURES], {}, 300_000);
    expect(json.code, json.stdout + json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout) as { summary: string; results: unknown[]; live: { peer: string; redis: string; cells: Array<{ direction: string; row: string; ok: boolean }> } };
    expect(doc.live.peer).toBe('sidekiq-6.4.1');
    expect(doc.live.redis).toBe('private redis-server');
    expect(doc.live.cells).toHaveLength(EXPECTED_CELLS);
    expect(doc.live.cells.every((c) => c.ok && LIVE_DIRECTIONS.includes(c.direction as never) && LIVE_ROWS.includes(c.row as never))).toBe(true);
    expect(doc.summary).toBe(`${doc.results.length + EXPECTED_CELLS} passed, 0 failed`);

    const file = join(dir, 'matrix.md');
    const md = await runCli(['compat', '--live-sidekiq', '--markdown', file, '--redis', server.url, '--fixtures', FIXTURES], {}, 300_000);
    expect(md.code, md.stdout + md.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('| scenario | result | decode | roundtrip | run | produce | lifecycle |');
    expect(text).toContain('| peer | interaction | ruby→kiqgate | kiqgate→ruby |');
    for (const row of LIVE_ROWS) expect(text).toMatch(new RegExp(`\\| sidekiq-6\\.4\\.1 \\| ${row} \\|`));
    expect(text).not.toContain('FAIL');
  }, 600_000);

  it('exits 2 with the install hint when Ruby is not on the PATH (nothing else runs)', async () => {
    // An empty directory as the PATH: no ruby, no sidekiq (node itself is run by its full path).
    const r = await runCli(['compat', '--live-sidekiq', '--redis', server.url, '--fixtures', FIXTURES], { PATH: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Ruby Sidekiq is not installed');
    expect(r.stderr).toContain('compat/install-ruby-sidekiq.sh');
    expect(r.stderr).toContain('apt-get install -y ruby-sidekiq');
  });
});
