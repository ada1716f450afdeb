/**
 * `kiqgate worker` as a real process (bin/kiqgate.js, signalled directly): the workers module's
 * startup/shutdown hooks, the process ending once stopped although the module keeps its own
 * connection and timer open (with Redis up and with Redis gone), a startup hook that throws, a
 * module with no handlers, and a second signal forcing the stop.
 *
 * Each test has its own namespace on the test Redis (or its own redis-server); waits are
 * bounded polls on real state, never timing assertions: a process that does not exit fails the
 * test at the bound.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startRedisServer } from '../../src/support/redis-server.js';
import { KeyLayout } from '../../src/wire/index.js';
import { killStrays, logLines, runCli, startCli } from '../support/cli.js';
import { dropNamespace, TEST_REDIS_URL, testRedis, uniqueNamespace } from '../support/redis.js';
import { until } from '../support/wait.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const redis = testRedis();
const dir = mkdtempSync(join(tmpdir(), 'kiqgate-lifecycle-'));
afterEach(killStrays); // children still running when a test failed before they exited
afterAll(async () => {
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

/** What most workers modules do at import: open their own client and a timer, never closed. */
const LINGER = `import { createRequire } from 'node:module';
const { Redis } = createRequire(${JSON.stringify(join(ROOT, 'package.json'))})('ioredis');
const redis = new Redis(process.env.LC_REDIS);
redis.on('error', () => {});
setInterval(() => {}, 1000);
const ns = process.env.LC_NS;
`;

function module(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `${LINGER}${body}`);
  return path;
}

/** Hooks and two classes: Echo records whether startup had finished; Slow runs until aborted. */
const withHooks = module('with-hooks.mjs', `
let started = false;
export default {
  handlers: {
    Echo: async (args) => { await redis.rpush(ns + ':seen', JSON.stringify({ args, started })); },
    Slow: (args, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => {
      ctx.logger.info({ jid: ctx.jid }, 'slow job aborted');
      reject(ctx.signal.reason);
    })),
  },
  async startup() {
    await new Promise((r) => setTimeout(r, 100));
    started = true;
    await redis.rpush(ns + ':hooks', 'startup');
  },
  async shutdown() {
    const queued = await redis.llen(ns + ':queue:default');
    const inProgress = await redis.llen(ns + ':inprogress:default:' + process.env.LC_NODE);
    await redis.rpush(ns + ':hooks', 'shutdown queued=' + queued + ' inprogress=' + inProgress);
  },
};
`);

/** Today's shape, no hooks. */
const plain = module('plain.mjs', `export default { Echo: () => {} };\n`);

const failingStartup = module('failing-startup.mjs', `
export const Echo = () => {};
export async function startup() { throw new Error('no database'); }
`);

/** Spawns `node bin/kiqgate.js worker ...` (the node process itself gets the signals). */
const startWorker = (args: string[], env: Record<string, string>) => startCli(['worker', ...args], env);

describe('kiqgate worker: process lifecycle', () => {
  it('runs startup before fetching and shutdown after the running job was given back, then exits although the module keeps a connection and a timer open', async () => {
    const ns = uniqueNamespace('lc');
    const k = new KeyLayout(ns);
    const slow = JSON.stringify({ class: 'Slow', args: [2], queue: 'default', jid: 'slow-1', retry: true });
    try {
      await redis.lpush(k.queue('default'), JSON.stringify({ class: 'Echo', args: [1], queue: 'default', jid: 'echo-1', retry: true }));
      const w = startWorker(['--redis', TEST_REDIS_URL, '--require', withHooks, '--node-id', 'lc1', '--timeout', '0.3', '--namespace', ns],
        { LC_REDIS: TEST_REDIS_URL, LC_NS: ns, LC_NODE: 'lc1' });
      const seen = await until(async () => redis.lindex(`${ns}:seen`, 0), 'the Echo job to run', 30_000);
      expect(JSON.parse(seen)).toEqual({ args: [1], started: true }); // startup had finished
      await redis.lpush(k.queue('default'), slow);
      await until(async () => (await redis.lrange(k.inProgress('default', 'lc1'), 0, -1)).includes(slow) && (await redis.llen(k.queue('default'))) === 0, 'the Slow job to run');
      w.kill('SIGTERM');
      const { code, out } = await w.exit();
      expect(code).toBe(0);
      expect(await redis.lrange(`${ns}:hooks`, 0, -1)).toEqual(['startup', 'shutdown queued=1 inprogress=0']);
      expect(await redis.lrange(k.queue('default'), 0, -1)).toEqual([slow]);
      const msgs = logLines(out).map((l) => l.msg);
      expect(msgs).toContain('slow job aborted');
      expect(msgs.at(-1)).toBe('worker stopped');
    } finally {
      await dropNamespace(redis, ns);
    }
  });

  it('exits after SIGTERM when Redis is gone, although the module keeps its own reconnecting client', async () => {
    const server = await startRedisServer();
    try {
      const w = startWorker(['--redis', server.url, '--require', plain, '--timeout', '0.2', '--generate-node-id'], { LC_REDIS: server.url, LC_NS: 'x' });
      await until(() => logLines(w.output()).some((l) => l.msg === 'worker started'), 'the worker to start', 30_000);
      server.process.kill('SIGKILL');
      w.kill('SIGTERM');
      const { code, out } = await w.exit();
      expect(code).toBe(0);
      expect(logLines(out).at(-1)?.msg).toBe('worker stopped');
    } finally {
      await server.stop();
    }
  });

  it('a startup hook that throws: one line, exit 1, nothing fetched, node id released, no hang on the module\'s open handles', async () => {
    const ns = uniqueNamespace('lc');
    const k = new KeyLayout(ns);
    const echo = JSON.stringify({ class: 'Echo', args: [1], queue: 'default', jid: 'e1', retry: true });
    try {
      await redis.lpush(k.queue('default'), echo);
      const w = startWorker(['--redis', TEST_REDIS_URL, '--require', failingStartup, '--node-id', 'lc2', '--namespace', ns], { LC_REDIS: TEST_REDIS_URL, LC_NS: ns });
      const { code, err } = await w.exit();
      expect(code).toBe(1);
      expect(err).toBe('kiqgate worker: startup hook failed: no database\n');
      expect(await redis.lrange(k.queue('default'), 0, -1)).toEqual([echo]);
      expect(await redis.exists(k.nodeClaim('lc2'), k.inProgress('default', 'lc2'))).toBe(0);
    } finally {
      await dropNamespace(redis, ns);
    }
  });

  it('refuses a module with no job handlers in one line, and exits although it left a timer open', async () => {
    const empty = module('empty.mjs', 'export default {};\n');
    const onlyHooks = module('only-hooks.mjs', 'export default { handlers: {}, startup() {} };\n');
    for (const path of [empty, onlyHooks]) {
      const r = await runCli(['worker', '--redis', TEST_REDIS_URL, '--require', path], { LC_REDIS: TEST_REDIS_URL }, 30_000);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^kiqgate worker: --require \S+ exports no job handlers, so the worker would fail every job; export them as export default \{ handlers: /);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe(''); // no worker started
    }
  });

  it('a second SIGTERM forces the stop: the running job is aborted and given back now, not at the 60 s timeout', async () => {
    const ns = uniqueNamespace('lc');
    const k = new KeyLayout(ns);
    const slow = JSON.stringify({ class: 'Slow', args: [3], queue: 'default', jid: 'slow-2', retry: true });
    try {
      await redis.lpush(k.queue('default'), slow);
      const w = startWorker(['--redis', TEST_REDIS_URL, '--require', withHooks, '--node-id', 'lc3', '--timeout', '60', '--namespace', ns],
        { LC_REDIS: TEST_REDIS_URL, LC_NS: ns, LC_NODE: 'lc3' });
      await until(async () => (await redis.llen(k.inProgress('default', 'lc3'))) === 1, 'the Slow job to run', 30_000);
      w.kill('SIGTERM');
      await until(() => logLines(w.output()).some((l) => l.msg === 'worker stopping'), 'the graceful stop to begin');
      w.kill('SIGTERM');
      const { code, out } = await w.exit(20_000); // well below the 60 s shutdown timeout
      expect(code).toBe(0);
      const msgs = logLines(out).map((l) => l.msg);
      expect(msgs).toContain('second signal received: stopping now (running jobs are aborted and given back to their queues)');
      expect(msgs).toContain('slow job aborted');
      expect(msgs.at(-1)).toBe('worker stopped');
      expect(await redis.lrange(k.queue('default'), 0, -1)).toEqual([slow]);
      expect(await redis.llen(k.inProgress('default', 'lc3'))).toBe(0);
    } finally {
      await dropNamespace(redis, ns);
    }
  });

  it('a second SIGTERM ends the process while a slow startup hook still runs', async () => {
    const slowStartup = module('slow-startup.mjs', `
export const Echo = () => {};
export async function startup() { console.log(JSON.stringify({ msg: 'startup hook running' })); await new Promise(() => {}); }
`);
    const w = startWorker(['--redis', TEST_REDIS_URL, '--require', slowStartup, '--generate-node-id'], { LC_REDIS: TEST_REDIS_URL, LC_NS: 'x' });
    await until(() => logLines(w.output()).some((l) => l.msg === 'startup hook running'), 'the startup hook to run', 30_000);
    w.kill('SIGTERM');
    await until(() => logLines(w.output()).some((l) => l.msg === 'worker stopping'), 'the graceful stop to begin');
    w.kill('SIGTERM');
    const { code, out } = await w.exit(20_000);
    expect(code).toBe(0);
    expect(logLines(out).at(-1)?.msg).toBe('worker stopped');
  });
});
