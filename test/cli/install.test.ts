/**
 * The README's install path for a newcomer, end to end: `npm pack` in the clone (which builds
 * dist/ first), `npm install` of that tarball into a fresh app, then the package imported from
 * ESM and required from CommonJS, and the installed `kiqgate` command running the shipped
 * example workers module against a job the installed Client enqueued.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, expect, it } from 'vitest';
import { killStrays, logLines, startCli } from '../support/cli.js';
import { dropNamespace, TEST_REDIS_URL, testRedis, uniqueNamespace } from '../support/redis.js';
import { until } from '../support/wait.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const app = mkdtempSync(join(tmpdir(), 'kiqgate-app-'));
const redis = testRedis();
afterEach(killStrays);
afterAll(async () => {
  await redis.quit();
  rmSync(app, { recursive: true, force: true });
});

const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

it('npm pack + npm install give a package that imports, requires, and runs the example worker', async () => {
  const tarball = run('npm', ['pack', '--silent', '--pack-destination', app], ROOT).trim().split('\n').at(-1)!;
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'newcomer-app', version: '1.0.0', private: true, type: 'module' }));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', join(app, tarball)], app);

  expect(run(process.execPath, ['--input-type=module', '-e', "const k = await import('kiqgate'); console.log(typeof k.Worker, typeof k.Client)"], app).trim()).toBe('function function');
  expect(run(process.execPath, ['-e', "const k = require('kiqgate'); console.log(typeof k.Worker, typeof k.Client)"], app).trim()).toBe('function function');

  // The installed command (no tsx, no src/: it runs dist/cli.js) with the shipped example.
  const ns = uniqueNamespace('install');
  try {
    const bin = join(app, 'node_modules', 'kiqgate', 'bin', 'kiqgate.js');
    const enqueue = run(process.execPath, [bin, 'enqueue', '--redis', TEST_REDIS_URL, '--namespace', ns, '--class', 'HardJob', '--args', '[1, "two"]'], app).trim();
    expect(enqueue).toMatch(/^[0-9a-f]{24}$/);
    const example = join(app, 'node_modules', 'kiqgate', 'examples', 'workers.mjs');
    const w = startCli(['worker', '--redis', TEST_REDIS_URL, '--namespace', ns, '--require', example, '--generate-node-id'], {}, bin);
    await until(() => (logLines(w.output()).some((l) => l.msg === 'done' && l.jid === enqueue) ? true : undefined), `the installed worker to run the job (stdout: ${w.output().slice(-300)})`, 30_000);
    expect(logLines(w.output()).find((l) => l.msg === 'hard work')).toMatchObject({ class: 'HardJob', args: ['1', 'two'] });
    w.kill('SIGTERM');
    expect((await w.exit()).code).toBe(0);
  } finally {
    await dropNamespace(redis, ns);
  }
});
