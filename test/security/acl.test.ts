/**
 * The least-privilege ACL of docs/security.md, proven: the recipe's lines are read from the doc
 * and applied verbatim (placeholders replaced) to a private redis-server, then a real Worker and
 * a real Client run every engine path under those users, and `ACL LOG` must end empty.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { Worker } from '../../src/engine/index.js';
import { processHostname } from '../../src/engine/process-identity.js';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { KeyLayout, undecodableOriginal } from '../../src/wire/index.js';
import { runCli } from '../support/cli.js';
import { bufferLogger, sleep, until } from './helpers.js';

const DOC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'security.md');
const WORKER_PASSWORD = 'WorkerPw-7dQx3';
const PRODUCER_PASSWORD = 'ProducerPw-9kLm2';

/** The `ACL SETUSER` lines of the doc's ```acl block. */
function recipe(): string[] {
  const doc = readFileSync(DOC, 'utf8');
  const m = /<!-- acl-recipe[^>]*-->\s*```acl\n([\s\S]*?)```/.exec(doc);
  if (!m) throw new Error('docs/security.md has no acl-recipe block');
  return m[1]!.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

/** One recipe line as ACL SETUSER arguments, placeholders filled, key patterns under `ns:` if given. */
function setuserArgs(line: string, ns: string | undefined): string[] {
  const words = line.replace('WORKER_PASSWORD', WORKER_PASSWORD).replace('PRODUCER_PASSWORD', PRODUCER_PASSWORD)
    .replace('HOSTNAME', processHostname()).split(/\s+/);
  expect(words.slice(0, 2)).toEqual(['ACL', 'SETUSER']);
  return words.slice(2).map((w) => {
    if (!ns) return w;
    const k = /^(%[RW]+~|~)(.+)$/.exec(w);
    return k ? `${k[1]}${ns}:${k[2]}` : w;
  });
}

let server: RedisServerHandle;
let admin: Redis;
let version: number[];

beforeAll(async () => {
  server = await startRedisServer();
  admin = new Redis(server.url);
  const info = await admin.info('server');
  version = /redis_version:(\d+)\.(\d+)/.exec(info)!.slice(1).map(Number);
});
afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
});

async function applyRecipe(ns: string | undefined): Promise<void> {
  const lines = recipe();
  expect(lines).toHaveLength(2);
  for (const line of lines) {
    expect(line).not.toMatch(/\+@all|allcommands|allkeys|(^|\s)~\*(\s|$)/);
    await admin.call('ACL', 'SETUSER', ...setuserArgs(line, ns));
    // Redis ≥ 7.2 also needs CLIENT SETINFO (the doc says so); 7.0 does not know it.
    if (version[0]! > 7 || (version[0] === 7 && version[1]! >= 2)) await admin.call('ACL', 'SETUSER', setuserArgs(line, ns)[0]!, '+client|setinfo');
  }
}

async function aclDenials(): Promise<unknown[]> {
  return (await admin.call('ACL', 'LOG')) as unknown[];
}

describe('least-privilege ACL recipe (docs/security.md)', () => {
  it.each([
    ['no namespace (Sidekiq OSS keys), sidekiq7 layout', undefined, 'sidekiq7'],
    ['namespace app2, sidekiq6 layout (HMSET)', 'app2', 'sidekiq6'],
    ['namespace app3, sidekiq8 layout (execution metrics under h|)', 'app3', 'sidekiq8'],
  ] as const)('a Worker and a Client run every path under the recipe: %s', async (_label, ns, peer) => {
    await admin.flushall();
    await admin.call('ACL', 'LOG', 'RESET');
    await applyRecipe(ns);
    const keys = new KeyLayout(ns);
    const workerUrl = `redis://kiqgate-worker:${WORKER_PASSWORD}@127.0.0.1:${server.port}`;
    const producerUrl = `redis://kiqgate-producer:${PRODUCER_PASSWORD}@127.0.0.1:${server.port}`;

    const ran: string[] = [];
    let flakyRuns = 0;
    const { logger, text } = bufferLogger('debug');
    const worker = new Worker({
      redis: workerUrl, namespace: ns, peer, logger, generateNodeId: true, heartbeatMs: 300, pollIntervalMs: 100,
      shutdownTimeoutMs: 2000, queues: { default: 3, critical: 1 }, verkQueueStats: true, deadMaxJobs: 2,
      handlers: {
        Ok: (args) => { ran.push(`Ok ${JSON.stringify(args)}`); },
        Flaky: {
          retryAt: (at) => at.getTime() + 200,
          handler: () => { if (++flakyRuns === 1) throw new Error('first run fails'); ran.push('Flaky retried'); },
        },
      },
    });
    await worker.start();
    const client = new Client({ redis: producerUrl, namespace: ns, peer: 'sidekiq7' });
    const verk = new Client({ redis: producerUrl, namespace: ns, peer: 'verk' });
    try {
      await client.enqueue({ class: 'Ok', args: [1] });
      await client.enqueue({ class: 'Ok', args: [2], queue: 'critical' });
      await client.enqueueBulk({ class: 'Ok', args: [[3], [4]] });
      await client.enqueue({ class: 'Ok', args: ['scheduled'], in: 0.3 });
      await verk.enqueue({ class: 'Ok', args: ['verk'] });
      await verk.enqueue({ class: 'Ok', args: ['verk scheduled'], in: 0.3 });
      await client.enqueue({ class: 'Flaky', args: [] });
      // The CLI producer too (it PINGs first).
      const cli = await runCli(['enqueue', '--redis', producerUrl, ...(ns ? ['--namespace', ns] : []), '--class', 'Ok', '--args', '["cli"]']);
      expect(cli.stderr).toBe('');
      await client.enqueue({ class: 'Nope', args: [], retry: 0 });
      await admin.lpush(keys.queue('default'), '{not json');
      await until(() => ran.length === 9, 'nine successful runs', 15_000);
      await until(async () => (await admin.zcard(keys.dead)) === 2, 'the bad payload and the unknown class in dead');
      expect(await admin.zcard(keys.retry)).toBe(0);
      // A third dead entry overflows deadMaxJobs: the trim runs too.
      await admin.lpush(keys.queue('default'), '{still not json');
      await until(async () => (await admin.zrangeBuffer(keys.dead, 0, -1)).some((m) => undecodableOriginal(m)?.toString() === '{still not json'), 'the second bad payload in dead');
      expect(await admin.zcard(keys.dead)).toBe(2);
      // An undecodable schedule member: the scheduler buries it (bury-2.lua, with the trim).
      await admin.zadd(keys.schedule, 1, '[1,2,3]');
      await until(async () => (await admin.zrangeBuffer(keys.dead, 0, -1)).some((m) => undecodableOriginal(m)?.toString() === '[1,2,3]'), 'the bad schedule member in dead');
      expect(await admin.zcard(keys.dead)).toBe(2);

      // Heartbeat: Sidekiq's process set and hash, Verk's node key.
      expect(await admin.smembers(keys.processes)).toEqual([worker.identity]);
      expect(await admin.hget(keys.process(worker.identity), 'beat')).toMatch(/^\d+\.\d+$/);
      expect(await admin.pttl(keys.verkNode(worker.nodeId))).toBeGreaterThan(0);

      // A Sidekiq signal through Redis, pause/resume while idle (CLIENT UNBLOCK), a dead Verk node.
      await admin.lpush(keys.processSignals(worker.identity), 'TTIN');
      await sleep(200);
      worker.pauseQueue('default');
      await sleep(100);
      worker.resumeQueue('default');
      await admin.sadd(keys.verkNodes, 'gone');
      await admin.sadd(keys.verkNodeQueues('gone'), 'default');
      await admin.lpush(keys.inProgress('default', 'gone'), '{"class":"Ok","args":["recovered"],"jid":"aaaaaaaaaaaaaaaaaaaaaaaa","queue":"default"}');
      await until(() => ran.includes('Ok ["recovered"]'), 'the dead node\'s job to be recovered and run', 15_000);
      // After SCRIPT FLUSH ioredis falls back from EVALSHA to EVAL.
      await admin.script('FLUSH');
      await client.enqueue({ class: 'Ok', args: ['last'] });
      await until(() => ran.includes('Ok ["last"]'), 'a job after resume');

      // A worker with a fixed node id claims it (kiqgate:node-claim:<node>), refreshes and releases it.
      const fixed = new Worker({
        redis: workerUrl, namespace: ns, peer, logger, nodeId: 'fixed-1', heartbeatMs: 200, sidekiqHeartbeat: false,
        shutdownTimeoutMs: 2000, queues: { fixedq: 1 }, handlers: { Ok: (args) => { ran.push(`fixed ${JSON.stringify(args)}`); } },
      });
      await fixed.start();
      await client.enqueue({ class: 'Ok', args: ['fixed'], queue: 'fixedq' });
      await until(() => ran.includes('fixed ["fixed"]'), 'the fixed-id worker\'s job');
      await sleep(450); // two claim refreshes
      expect(await admin.pttl(keys.nodeClaim('fixed-1'))).toBeGreaterThan(0);
      await fixed.stop();
      expect(await admin.exists(keys.nodeClaim('fixed-1'))).toBe(0);
    } finally {
      await client.close();
      await verk.close();
      await worker.stop();
    }
    expect(await admin.smembers(keys.processes)).toEqual([]);
    expect(await aclDenials()).toEqual([]);
    expect(text()).not.toMatch(/NOPERM|NOSCRIPT|ERR /);
  });

  it('the same lines work as an ACL file (`user …`), loaded at startup with --aclfile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiqgate-acl-'));
    const file = join(dir, 'users.acl');
    const users = recipe().map((l) => `user ${setuserArgs(l, undefined).join(' ')}`);
    writeFileSync(file, `${['user default on nopass ~* &* +@all', ...users].join('\n')}\n`);
    const viaFile = await startRedisServer({ args: ['--aclfile', file] });
    const check = new Redis(viaFile.url);
    try {
      const workerRules = await check.call('ACL', 'GETUSER', 'kiqgate-worker') as unknown[];
      expect(workerRules).toContain('flags');
      const client = new Client({ redis: `redis://kiqgate-producer:${PRODUCER_PASSWORD}@127.0.0.1:${viaFile.port}` });
      await client.enqueue({ class: 'Ok', args: [] });
      await client.close();
      expect(await check.llen('queue:default')).toBe(1);
      expect(await check.call('ACL', 'LOG')).toEqual([]);
    } finally {
      check.disconnect();
      await viaFile.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a user without those rights gets a clear NOPERM (API and CLI), and the job is not lost', async () => {
    await admin.flushall();
    await admin.call('ACL', 'LOG', 'RESET');
    await applyRecipe(undefined);
    await admin.call('ACL', 'SETUSER', 'readonly-user', 'reset', 'on', '>ReadOnlyPw-1', '~*', '-@all', '+ping', '+info', '+get');
    const url = `redis://readonly-user:ReadOnlyPw-1@127.0.0.1:${server.port}`;

    const client = new Client({ redis: url });
    await expect(client.enqueue({ class: 'Ok', args: [] })).rejects.toThrow(/^NOPERM this user has no permissions to run the 'sadd' command/);
    await client.close();

    const cli = await runCli(['enqueue', '--redis', url, '--class', 'Ok', '--args', '[]']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toBe("kiqgate enqueue: NOPERM this user has no permissions to run the 'sadd' command\n");

    // The producer user cannot run a worker: the fetch is refused, the job stays queued.
    await admin.lpush('queue:default', '{"class":"Ok","args":[],"jid":"bbbbbbbbbbbbbbbbbbbbbbbb","queue":"default"}');
    const { logger, text } = bufferLogger('debug');
    const ran: unknown[] = [];
    const worker = new Worker({ redis: `redis://kiqgate-producer:${PRODUCER_PASSWORD}@127.0.0.1:${server.port}`, logger, sidekiqHeartbeat: false, shutdownTimeoutMs: 100, handlers: { Ok: () => { ran.push(1); } } });
    // Its first own commands check the node id (no live Verk/Exq node holds it, then the claim):
    // start() fails with the NOPERM, nothing fetched.
    const err = await worker.start().then(() => undefined, (e: unknown) => e as Error);
    await worker.stop().catch(() => undefined);
    expect(err?.message).toMatch(/NOPERM this user has no permissions to run the '(pttl|get|evalsha|eval)' command/);
    expect(err?.message).not.toContain(PRODUCER_PASSWORD);
    expect(ran).toEqual([]);
    expect(await admin.llen('queue:default')).toBe(1);
    expect(text()).not.toContain(PRODUCER_PASSWORD);
  });
});
