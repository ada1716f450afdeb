/**
 * stop() when Redis stops answering: it does not wait for Redis forever. It gives up 2 s after
 * the shutdown deadline, says so in the log, and returns; whatever it could not write stays in
 * the node's in-progress list, and the next start with the same node id runs it. Each test has
 * its own redis-server (one is frozen with SIGSTOP, one killed).
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import type { Worker } from '../../src/engine/index.js';
import { startRedisServer, type RedisServerHandle } from '../../src/support/redis-server.js';
import { testWorker, until } from './helpers.js';

let server: RedisServerHandle | undefined;
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  server?.process.kill('SIGCONT');
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  await server?.stop();
  server = undefined;
});

/** A pino logger whose JSON lines land in `lines`. */
function capturingLogger(lines: Array<{ level: number; msg: string }>) {
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l)); done(); } });
  return pino({ level: 'info' }, sink);
}

const job = (cls: string, id: string) => JSON.stringify({ class: cls, args: [id], queue: 'default', jid: `j-${id}`, retry: true });
const GAVE_UP = /Redis did not answer during shutdown/;

it('Redis frozen mid-shutdown: stop() returns, and the unacked jobs stay in in-progress for the next start', async () => {
  server = await startRedisServer();
  const admin = new Redis(server.url);
  closers.push(() => admin.quit());
  const lines: Array<{ level: number; msg: string }> = [];
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  const ran: string[] = [];
  const first: Worker = testWorker({
    redis: server.url, nodeId: 'n1', queues: { default: 1 }, shutdownTimeoutMs: 300, logger: capturingLogger(lines),
    handlers: { Held: async (args) => { ran.push(String(args[0])); await held; }, Quick: (args) => { ran.push(String(args[0])); } },
  });
  const k = first.keys;
  await admin.lpush(k.queue('default'), job('Held', 'a'), job('Quick', 'b'));
  await first.start();
  await until(() => ran.includes('a'), 'job a running');

  server.process.kill('SIGSTOP'); // connections stay open; nothing answers
  release(); // a finishes: its ack can no longer reach Redis
  await first.stop();
  expect(lines.some((l) => l.level === 50 && GAVE_UP.test(l.msg))).toBe(true);
  expect(ran).toEqual(['a']);

  server.process.kill('SIGCONT');
  // Nothing was lost: b (never started) is in the queue or in n1's in-progress list, and a is
  // acked or still there too; nothing went to retry or dead.
  const left = [...await admin.lrange(k.queue('default'), 0, -1), ...await admin.lrange(k.inProgress('default', 'n1'), 0, -1)];
  expect(left).toContain(job('Quick', 'b'));
  expect(left.filter((p) => p === job('Held', 'a')).length).toBeLessThanOrEqual(1);
  expect(await admin.zcard(k.retry) + await admin.zcard(k.dead)).toBe(0);

  // The frozen Redis kept n1's claim too. The next start is a new process, which takes over a
  // claim whose pid is gone at once (node-claim.test.ts); this process is alive, so drop it here.
  expect(await admin.del(k.nodeClaim('n1'))).toBe(1);
  const again: string[] = [];
  const second = testWorker({
    redis: server.url, namespace: first.config.namespace, nodeId: 'n1', queues: { default: 1 },
    handlers: { Held: (args) => { again.push(String(args[0])); }, Quick: (args) => { again.push(String(args[0])); } },
  });
  closers.push(() => second.stop());
  await second.start();
  await until(async () => (await admin.llen(k.queue('default'))) + (await admin.llen(k.inProgress('default', 'n1'))) === 0 && again.includes('b'), 'the leftovers run');
  expect(again).toContain('b');
});

it('Redis killed while jobs run: stop() returns and says it gave up on Redis', async () => {
  server = await startRedisServer();
  const admin = new Redis(server.url);
  const lines: Array<{ level: number; msg: string }> = [];
  let started = 0;
  const worker = testWorker({
    redis: server.url, queues: { default: 2 }, shutdownTimeoutMs: 300, logger: capturingLogger(lines),
    handlers: { Slow: () => { started++; return new Promise((r) => setTimeout(r, 200)); } },
  });
  await admin.lpush(worker.keys.queue('default'), job('Slow', '1'), job('Slow', '2'), job('Slow', '3'));
  await worker.start();
  await until(() => started >= 2, 'two jobs running');
  admin.disconnect();
  server.process.kill('SIGKILL');
  await worker.stop();
  expect(lines.some((l) => l.level === 50 && GAVE_UP.test(l.msg))).toBe(true);
  expect(lines.at(-1)?.msg).toBe('worker stopped');
});

it('stop() while start() still waits for Redis: once Redis answers, start() starts nothing', async () => {
  server = await startRedisServer();
  const admin = new Redis(server.url);
  closers.push(() => admin.quit());
  const ran: string[] = [];
  // No ready check and no CLIENT SETINFO: the connection counts as up once TCP connects (the
  // kernel accepts it even while Redis is frozen), so start()'s PING is sent and stop()'s QUIT
  // queues behind it; both are answered only after the freeze.
  const worker = testWorker({
    redis: { host: '127.0.0.1', port: server.port, enableReadyCheck: false, disableClientInfo: true },
    generateNodeId: true, queues: { default: 1 }, handlers: { J: (args) => { ran.push(String(args[0])); } },
  });
  await admin.lpush(worker.keys.queue('default'), job('J', 'after-stop'));

  server.process.kill('SIGSTOP');
  const started = worker.start().then(() => 'resolved', (err: Error) => `rejected: ${err.message}`);
  await new Promise((r) => setTimeout(r, 200)); // connected, PING sent
  const stopped = worker.stop();
  server.process.kill('SIGCONT'); // start()'s PING is answered now, then stop()'s QUIT
  await stopped;
  expect(await started).toBe('resolved');

  // Nothing runs: the job stays queued, no node registered, no connection of the worker left.
  await new Promise((r) => setTimeout(r, 500));
  expect(ran).toEqual([]);
  expect(await admin.lrange(worker.keys.queue('default'), 0, -1)).toEqual([job('J', 'after-stop')]);
  expect(await admin.scard(worker.keys.verkNodes)).toBe(0);
  expect(((await admin.client('LIST')) as string).trim().split('\n')).toHaveLength(1); // admin's own
});
