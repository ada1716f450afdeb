/**
 * `kiqgate worker` as a real process: loads the handler module, runs jobs, stops gracefully
 * on SIGTERM with in-progress empty and exit code 0, logs pino JSON, and never prints a Redis
 * password.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedisServer } from '../../src/support/redis-server.js';
import { KeyLayout } from '../../src/wire/index.js';
import { TEST_REDIS_URL, testRedis, uniqueNamespace } from '../support/redis.js';
import { dropKeys, until } from './helpers.js';

const redis = testRedis();
const dir = mkdtempSync(join(tmpdir(), 'kiqgate-cli-'));
afterAll(async () => {
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

const runner = join(dir, 'run-worker.ts');
writeFileSync(runner, `import { runWorkerCommand } from ${JSON.stringify(join(process.cwd(), 'src/cli/worker-command.ts'))};
runWorkerCommand(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => { process.stderr.write(String(err.message) + '\\n'); process.exitCode = err.exitCode ?? 1; });
`);
const handlers = join(dir, 'workers.mjs');
writeFileSync(handlers, `export default {
  Echo: async (args, ctx) => { ctx.logger.info({ echoed: args }, 'echo'); },
};
`);

function start(args: string[]): { done: Promise<{ code: number | null; out: string; err: string }>; kill: (s: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', runner, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
  return { done, kill: (s) => child.kill(s) };
}

describe('kiqgate worker', () => {
  it('runs jobs from the required module and stops gracefully on SIGTERM', async () => {
    const ns = uniqueNamespace('cli');
    const k = new KeyLayout(ns);
    try {
      await redis.lpush(k.queue('critical'), JSON.stringify({ class: 'Echo', args: [1, 'x'], queue: 'critical', jid: 'cli1', retry: true }));
      const p = start(['--redis', TEST_REDIS_URL, '--require', handlers, '--queue', 'critical:2', '--queue', 'default', '--node-id', 'cli-node', '--timeout', '2', '--namespace', ns]);
      await until(async () => (await redis.get(k.stat('processed'))) === '1', 'job run by the CLI worker', 30_000);
      p.kill('SIGTERM');
      const { code, out } = await p.done;
      expect(code).toBe(0);
      const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.some((l) => l.msg === 'echo' && JSON.stringify(l.echoed) === '[1,"x"]')).toBe(true);
      expect(lines.some((l) => l.msg === 'worker stopped')).toBe(true);
      expect(await redis.llen(k.inProgress('critical', 'cli-node'))).toBe(0);
    } finally {
      await dropKeys(redis, ns);
    }
  });

  it('names an invalid flag value, and never prints a Redis password', async () => {
    const bad = await start(['--require', handlers, '--queue', 'default:zero']).done;
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/invalid queues\.default \(command line\)/);

    // A server that wants a password; we give a wrong one, which must not be printed.
    const server = await startRedisServer({ args: ['--requirepass', 'the-real-one'] });
    try {
      const url = new URL(server.url);
      url.password = 'hunter2-secret';
      const p = await start(['--redis', url.toString(), '--require', handlers]).done;
      expect(p.code).not.toBe(0);
      expect(p.out + p.err).not.toContain('hunter2-secret');
      expect(p.err).toContain('***');
    } finally {
      await server.stop();
    }
  });

  it('a --require module that throws a string at import: one line quoting what it threw', async () => {
    const thrower = join(dir, 'throws-string.mjs');
    writeFileSync(thrower, 'throw "boom";\n');
    const r = await start(['--redis', TEST_REDIS_URL, '--require', thrower]).done;
    expect(r.code).not.toBe(0);
    expect(r.err).toBe(`cannot load --require ${thrower}: it threw "boom"\n`);
  });

  it('a second worker with a node id that a running one holds exits 1 with one line naming the holder', async () => {
    const ns = uniqueNamespace('cli');
    const k = new KeyLayout(ns);
    const args = ['--redis', TEST_REDIS_URL, '--require', handlers, '--node-id', 'same', '--timeout', '2', '--namespace', ns];
    const first = start(args);
    try {
      await until(async () => redis.get(k.nodeClaim('same')), 'the first worker to claim its node id', 30_000);
      const second = await start(args).done;
      expect(second.code).toBe(1);
      expect(second.err).toMatch(/^node id 'same' is in use by \S+ \(running on this host\): give each worker process its own node id/);
      expect(second.err.trim().split('\n')).toHaveLength(1);
      expect(await redis.exists(k.nodeClaim('same'))).toBe(1); // still the first one's
    } finally {
      first.kill('SIGTERM');
      expect((await first.done).code).toBe(0);
      await dropKeys(redis, ns);
    }
  });
});
