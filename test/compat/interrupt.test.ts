/**
 * Ctrl-C during `kiqgate compat`: the run removes every key it wrote (the Sidekiq process keys
 * of its heartbeat check included) and exits 130. Runs the real command (the node process gets
 * the signal) against the real Redis, in a namespace of its own.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { scanKeys } from '../../src/support/connection.js';
import { BIN } from '../support/cli.js';
import { FIXTURES_DIR } from '../support/fixtures.js';
import { dropNamespace, TEST_REDIS_URL, testRedis, uniqueNamespace } from '../support/redis.js';
import { until } from '../support/wait.js';

const redis = testRedis();
const dir = mkdtempSync(join(tmpdir(), 'kiqgate-compat-int-'));
afterAll(async () => {
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

it('SIGINT while the heartbeat check runs: no key is left behind (none without a TTL), exit 130', async () => {
  // A scenario whose lifecycle check runs a worker with the Sidekiq heartbeat and pushes a TSTP
  // to its <identity>-signals list.
  mkdirSync(join(dir, 'sidekiq-6.4.1-kiqgate'));
  copyFileSync(join(FIXTURES_DIR, 'sidekiq-6.4.1-kiqgate', 'api-process-quiet-stop.json'), join(dir, 'sidekiq-6.4.1-kiqgate', 'api-process-quiet-stop.json'));
  const ns = uniqueNamespace('compat-int');
  const child = spawn(process.execPath, [BIN, 'compat', '--redis', TEST_REDIS_URL, '--fixtures', dir, '--namespace', ns], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  let exit: { code: number | null } | undefined;
  child.on('close', (code) => { exit = { code }; }); // after the pipes are drained, unlike 'exit'
  try {
    const written = await until(async () => {
      const keys = await scanKeys(redis, `${ns}:*`);
      return keys.some((k) => k.endsWith(':processes')) && keys.some((k) => k.endsWith('-signals')) ? keys : undefined;
    }, 'the heartbeat check to write the process keys and a signal', 60_000);
    expect(written.length).toBeGreaterThan(0);
    child.kill('SIGINT');
    await until(() => exit, 'kiqgate compat to exit', 30_000);
    expect(exit!.code).toBe(130);
    expect(stderr).toContain(`kiqgate compat: interrupted: removed the keys it wrote under '${ns}:'`);
    const left = await scanKeys(redis, `${ns}:*`);
    const withoutTtl: string[] = [];
    for (const k of left) if ((await redis.pttl(k)) < 0) withoutTtl.push(k);
    expect(withoutTtl).toEqual([]);
    expect(left).toEqual([]);
  } finally {
    if (!exit) child.kill('SIGKILL');
    await dropNamespace(redis, ns);
  }
});
