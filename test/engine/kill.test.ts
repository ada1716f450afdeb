/**
 * Issue 3, the kill test: a kiqgate worker in a child process (node + tsx, `generateNodeId`,
 * short Verk heartbeat) is killed with SIGKILL while jobs are in its in-progress list; a second
 * node with a generated id finds the dead node (its `verk:node:<id>` key expired), moves its
 * in-progress jobs back to the queue and runs them. Every enqueued jid runs; none is lost.
 *
 * A private redis-server; real processes; waits are deadlines on Redis state.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Client } from '../../src/client/index.js';
import { Worker } from '../../src/engine/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { until } from '../support/wait.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const JOBS = 60;
const HEARTBEAT_MS = 300;

/** The child: a Worker that records each run (jid → node) in Redis, then sleeps a little. */
const CHILD_SCRIPT = `
// Absolute imports of kiqgate's own modules (the script lives in a temp dir, outside node_modules' reach).
import { Worker } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'engine', 'index.ts')).href)};
import { openRedis } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'support', 'connection.ts')).href)};
const redisUrl = process.env.REDIS_URL;
const { redis } = openRedis(redisUrl);
const worker = new Worker({
  redis: redisUrl,
  queues: { default: 4 },
  generateNodeId: true,
  heartbeatMs: ${HEARTBEAT_MS},
  sidekiqHeartbeat: false,
  blockTimeoutSeconds: 1,
  logLevel: 'silent',
  handlers: {
    KillJob: async (args, ctx) => {
      await redis.rpush('kill:started', ctx.jid + ' ' + worker.nodeId);
      await new Promise((r) => setTimeout(r, Number(args[1])));
      await redis.rpush('kill:done', ctx.jid + ' ' + worker.nodeId);
    },
  },
});
await worker.start();
process.stdout.write(JSON.stringify({ nodeId: worker.nodeId }) + '\\n');
`;

let server: RedisServerHandle;
let redis: Redis;
let dir: string;
let child: ChildProcess | undefined;
let second: Worker | undefined;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
  dir = mkdtempSync(join(tmpdir(), 'kiqgate-kill-'));
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await second?.stop();
  redis?.disconnect();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const jidsOf = (entries: string[]) => entries.map((e) => e.split(' ')[0]!);

describe('SIGKILL in the middle of jobs', () => {
  it('a second node (generated id) recovers the killed node\'s in-progress jobs; every job runs', async () => {
    const client = new Client({ redis: server.url, peer: 'sidekiq7' });
    const enqueued = await client.enqueueBulk({ class: 'KillJob', args: Array.from({ length: JOBS }, (_, i) => [i, 150]) });
    await client.close();
    expect(new Set(enqueued).size).toBe(JOBS);

    const script = join(dir, 'kill-child.mts');
    writeFileSync(script, CHILD_SCRIPT);
    let out = '';
    let err = '';
    child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: ROOT, env: { ...process.env, REDIS_URL: server.url }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const nodeId = await until(async () => {
      if (child!.exitCode !== null) throw new Error(`the child exited (${child!.exitCode}): ${err}`);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      return line ? (JSON.parse(line) as { nodeId: string }).nodeId : undefined;
    }, 'the child worker to start', 60_000);
    const inProgressKey = `inprogress:default:${nodeId}`;

    // Kill it once it has finished a few jobs and holds others in its in-progress list.
    await until(async () => (await redis.llen('kill:done')) >= 8 && (await redis.llen(inProgressKey)) > 0, 'the child to be in the middle of jobs', 30_000);
    child.kill('SIGKILL');
    await until(async () => child!.signalCode === 'SIGKILL', 'the child to die', 30_000);
    const orphaned = await redis.lrange(inProgressKey, 0, -1);
    const doneByChild = jidsOf(await redis.lrange('kill:done', 0, -1));
    expect(orphaned.length).toBeGreaterThan(0);
    expect(doneByChild.length).toBeLessThan(JOBS);
    const orphanJids = orphaned.map((p) => (JSON.parse(p) as { jid: string }).jid);
    expect(await redis.sismember('verk_nodes', nodeId)).toBe(1);

    second = new Worker({
      redis: server.url,
      queues: { default: 8 },
      generateNodeId: true,
      heartbeatMs: HEARTBEAT_MS,
      sidekiqHeartbeat: false,
      blockTimeoutSeconds: 1,
      logger: pino({ level: 'silent' }),
      handlers: {
        KillJob: async (_args, ctx) => {
          await redis.rpush('kill:started', `${ctx.jid} ${second!.nodeId}`);
          await redis.rpush('kill:done', `${ctx.jid} ${second!.nodeId}`);
        },
      },
    });
    expect(second.nodeId).not.toBe(nodeId);
    await second.start();

    const done = await until(async () => {
      const d = new Set(jidsOf(await redis.lrange('kill:done', 0, -1)));
      return enqueued.every((j) => d.has(j)) ? d : undefined;
    }, 'every enqueued jid in kill:done', 30_000);
    expect([...done].sort()).toEqual([...enqueued].sort());
    // The orphans were run by the second node, after the kill.
    const bySecond = new Set((await redis.lrange('kill:done', 0, -1)).filter((e) => e.endsWith(` ${second!.nodeId}`)).map((e) => e.split(' ')[0]));
    for (const j of orphanJids) expect(bySecond.has(j), `orphan ${j} run by the second node`).toBe(true);
    // Nothing left anywhere, the dead node deregistered.
    await until(async () => (await redis.llen(inProgressKey)) === 0 && (await redis.sismember('verk_nodes', nodeId)) === 0, 'the dead node deregistered', 30_000);
    expect(await redis.llen('queue:default')).toBe(0);
    expect(await redis.exists(inProgressKey)).toBe(0);
    await second.stop();
    expect(await redis.llen(`inprogress:default:${second.nodeId}`)).toBe(0);
    // At-least-once: a job runs twice only if it was in flight at the kill.
    const starts = jidsOf(await redis.lrange('kill:started', 0, -1));
    const counts = new Map<string, number>();
    for (const j of starts) counts.set(j, (counts.get(j) ?? 0) + 1);
    for (const [j, n] of counts) if (n > 1) expect(orphanJids, `${j} ran ${n} times`).toContain(j);
  }, 120_000);
});
