/**
 * Verk's node registry and dead-node recovery against the real Redis, in Verk's keys
 * (`verk_nodes`, `verk:node:<id>`, `verk:node:<id>:queues`, `inprogress:<q>:<id>`): a dead node's
 * jobs come back byte for byte to the consuming end of their queues, once even with two
 * sweepers racing; live nodes are left alone; start and stop do what Verk's Node.Manager does.
 */
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineView } from '../../src/engine/engine-view.js';
import { defineScripts, requeueAll } from '../../src/engine/scripts.js';
import { VerkNodes, type NodeRecovery } from '../../src/engine/verk-nodes.js';
import { KeyLayout } from '../../src/wire/index.js';
import { dropNamespace, testRedis, uniqueNamespace } from '../support/redis.js';

interface TestView extends EngineView {
  logs: Array<Record<string, unknown>>;
}

/**
 * A small real engine view. Its requeue is the engine's own (lua/requeue-2.lua, Verk's lpop_rpush
 * semantics), in batches of 7 so that two racing sweepers interleave batch by batch.
 */
function testView(redis: Redis, keys: KeyLayout, nodeId: string, queues: string[]): TestView {
  defineScripts(redis);
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
  return {
    nodeId,
    identity: `vm:${process.pid}:000000000000`,
    keys,
    logger: pino({ level: 'info' }, sink),
    peer: 'verk',
    logs,
    queues: () => queues,
    concurrency: () => 1,
    running: () => [],
    isQuiet: () => false,
    quiet: () => {},
    requestStop: () => {},
    requeueInProgress: (queue, node) => requeueAll(redis, keys.inProgress(queue, node), keys.queue(queue), 7),
  };
}

const job = (n: number, q = 'default') =>
  `{"args":"[${n}]","class":"SlowWorker","created_at":null,"enqueued_at":1795872372,"error_backtrace":null,"error_message":null,"failed_at":null,"finished_at":null,"jid":"2649902677226865${String(n).padStart(4, '0')}","max_retry_count":5,"queue":"${q}","retried_at":null,"retry_count":0}`;
/** A payload that is not valid UTF-8: it must come back with the same bytes. */
const RAW = Buffer.concat([Buffer.from('{"class":"X","args":["'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('é"]}')]);

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup() {
  const ns = uniqueNamespace('vn');
  const keys = new KeyLayout(ns);
  const conns: Redis[] = [];
  const services: VerkNodes[] = [];
  const conn = () => { const r = testRedis(); conns.push(r); return r; };
  const admin = conn();
  const node = (id: string, queues = ['default'], heartbeatMs = 30_000) => {
    const r = conn();
    const view = testView(r, keys, id, queues);
    const svc = new VerkNodes(r, view, { heartbeatMs });
    services.push(svc);
    return { svc, view, redis: r };
  };
  cleanups.push(async () => {
    for (const s of services) await s.stop();
    await dropNamespace(admin, ns);
    for (const r of conns) if (r.status !== 'end') await r.quit();
  });
  /** A node as a crashed Verk leaves it: registered, queues recorded, jobs in progress, key gone. */
  const deadNode = async (id: string, jobs: Record<string, Array<string | Buffer>>) => {
    await admin.sadd(keys.verkNodes, id);
    await admin.sadd(keys.verkNodeQueues(id), ...Object.keys(jobs));
    for (const [q, list] of Object.entries(jobs)) if (list.length > 0) await admin.rpush(keys.inProgress(q, id), ...list);
  };
  return { keys, admin, node, deadNode };
}

describe('VerkNodes', () => {
  it('start registers the node with a 2 × heartbeat TTL, its queues, and in verk_nodes', async () => {
    const { keys, admin, node } = setup();
    const { svc } = node('A', ['default', 'critical'], 1000);
    await svc.start();
    expect(await admin.get(keys.verkNode('A'))).toBe('alive');
    const ttl = await admin.pttl(keys.verkNode('A'));
    expect(ttl).toBeGreaterThan(1000);
    expect(ttl).toBeLessThanOrEqual(2000);
    expect(await admin.smembers(keys.verkNodes)).toEqual(['A']);
    expect((await admin.smembers(keys.verkNodeQueues('A'))).sort()).toEqual(['critical', 'default']);
  });

  it('gives a dead node\'s in-progress jobs back to the consuming end, byte for byte, and deregisters it; a live node is untouched', async () => {
    const { keys, admin, node, deadNode } = setup();
    const a = node('A', ['default']);
    await a.svc.start();

    // B crashed (its key expired). Verk's fetch pushes onto the in-progress head, so the list
    // reads newest first: job 3, job 2, job 1.
    await deadNode('B', { default: [job(3), job(2), job(1)], critical: [RAW, job(9, 'critical')] });
    await admin.lpush(keys.queue('default'), job(100)); // already waiting
    // C is alive: key with a TTL, jobs in progress.
    await admin.psetex(keys.verkNode('C'), 60_000, 'alive');
    await admin.sadd(keys.verkNodes, 'C');
    await admin.sadd(keys.verkNodeQueues('C'), 'default');
    await admin.rpush(keys.inProgress('default', 'C'), job(50));
    // D's key has no TTL (PTTL -1): Verk counts that as dead too.
    await admin.set(keys.verkNode('D'), 'alive');
    await deadNode('D', { default: [job(70)] });

    const recovered = await a.svc.recoverDeadNodes();
    expect(recovered.map(({ node: n, moved }) => ({ node: n, moved })).sort((x, y) => x.node.localeCompare(y.node)))
      .toEqual([{ node: 'B', moved: 5 }, { node: 'D', moved: 1 }]);

    // The consumer RPOPs: B's jobs first, oldest first, before what was waiting (D's order vs B's
    // depends on SSCAN order, so read by membership for D).
    const popped: string[] = [];
    for (let s = await admin.rpop(keys.queue('default')); s !== null; s = await admin.rpop(keys.queue('default'))) popped.push(s);
    expect(popped.filter((p) => p !== job(70))).toEqual([job(1), job(2), job(3), job(100)]);
    expect(popped).toContain(job(70));
    const critical: Buffer[] = [];
    for (let b = await admin.rpopBuffer(keys.queue('critical')); b !== null; b = await admin.rpopBuffer(keys.queue('critical'))) critical.push(b);
    expect(critical).toEqual([Buffer.from(job(9, 'critical')), RAW]);

    for (const dead of ['B', 'D']) {
      expect(await admin.exists(keys.verkNode(dead), keys.verkNodeQueues(dead), keys.inProgress('default', dead), keys.inProgress('critical', dead))).toBe(0);
      expect(await admin.sismember(keys.verkNodes, dead)).toBe(0);
    }
    expect((await admin.smembers(keys.verkNodes)).sort()).toEqual(['A', 'C']);
    expect(await admin.lrange(keys.inProgress('default', 'C'), 0, -1)).toEqual([job(50)]);
    expect(await admin.pttl(keys.verkNode('C'))).toBeGreaterThan(0);

    // Logged with the node id and the count, with its timing exposed.
    const line = a.view.logs.find((l) => l.deadNode === 'B');
    expect(line).toMatchObject({ deadNode: 'B', moved: 5, nodeId: 'A', msg: 'recovered the in-progress jobs of a dead node' });
    expect(typeof line?.durationMs).toBe('number');
    const rec = a.svc.recoveries.find((r) => r.node === 'B')!;
    expect(rec.recoveredAtMs).toBeGreaterThanOrEqual(rec.detectedAtMs);
    expect(rec.queues.sort()).toEqual(['critical', 'default']);

    // A second sweep finds nothing.
    expect(await a.svc.recoverDeadNodes()).toEqual([]);
  });

  it('two sweepers racing move each job exactly once', async () => {
    const { keys, admin, node, deadNode } = setup();
    const a = node('A');
    const c = node('C');
    await a.svc.start();
    await c.svc.start();
    const jobs = { default: Array.from({ length: 300 }, (_, i) => job(i)), critical: Array.from({ length: 200 }, (_, i) => job(1000 + i, 'critical')) };
    await deadNode('B', jobs);

    const [ra, rc] = await Promise.all([a.svc.recoverDeadNodes(), c.svc.recoverDeadNodes()]);
    const moved = [...ra, ...rc].filter((r) => r.node === 'B').reduce((n, r) => n + r.moved, 0);
    expect(moved).toBe(500);
    for (const [q, list] of Object.entries(jobs)) {
      const back = await admin.lrange(keys.queue(q), 0, -1);
      expect(back.length).toBe(list.length);
      expect([...back].sort()).toEqual([...list].sort());
      expect(await admin.exists(keys.inProgress(q, 'B'))).toBe(0);
    }
    expect((await admin.smembers(keys.verkNodes)).sort()).toEqual(['A', 'C']);
  });

  it('start sweeps once, so a node started after a crash recovers the orphans at once', async () => {
    const { keys, admin, node, deadNode } = setup();
    await deadNode('B', { default: [job(1)] });
    const a = node('A');
    const seen: NodeRecovery[] = [];
    a.svc.on('recovered', (r) => seen.push(r));
    await a.svc.start();
    expect(seen.map((r) => [r.node, r.moved])).toEqual([['B', 1]]);
    expect(await admin.lrange(keys.queue('default'), 0, -1)).toEqual([job(1)]);
  });

  it('a node a peer deregistered registers itself again on its next beat', async () => {
    const { keys, admin, node } = setup();
    const a = node('A');
    await a.svc.start();
    await admin.multi().del(keys.verkNode('A'), keys.verkNodeQueues('A')).srem(keys.verkNodes, 'A').exec();
    await a.svc.beat();
    expect(await admin.sismember(keys.verkNodes, 'A')).toBe(1);
    expect(await admin.smembers(keys.verkNodeQueues('A'))).toEqual(['default']);
    expect(await admin.pttl(keys.verkNode('A'))).toBeGreaterThan(0);
  });

  it('beats on its timer', async () => {
    const { keys, admin, node, deadNode } = setup();
    const a = node('A', ['default'], 50);
    await a.svc.start();
    await deadNode('B', { default: [job(1)] });
    const deadline = Date.now() + 10_000;
    while ((await admin.llen(keys.queue('default'))) === 0) {
      if (Date.now() > deadline) throw new Error('no beat recovered B');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await admin.lrange(keys.queue('default'), 0, -1)).toEqual([job(1)]);
  });

  it('stop gives back its own in-progress jobs and deregisters, as Verk\'s graceful shutdown', async () => {
    const { keys, admin, node } = setup();
    const a = node('A', ['default']);
    await a.svc.start();
    await admin.sadd(keys.verkNodeQueues('A'), 'old'); // a queue fetched from earlier, since removed
    await admin.rpush(keys.inProgress('default', 'A'), job(2), job(1));
    await admin.rpush(keys.inProgress('old', 'A'), job(5, 'old'));
    await a.svc.stop();
    expect(await admin.lrange(keys.queue('default'), 0, -1)).toEqual([job(2), job(1)]);
    expect(await admin.lrange(keys.queue('old'), 0, -1)).toEqual([job(5, 'old')]);
    expect(await admin.exists(keys.verkNode('A'), keys.verkNodeQueues('A'), keys.inProgress('default', 'A'))).toBe(0);
    expect(await admin.sismember(keys.verkNodes, 'A')).toBe(0);
  });

  it('stop on a closed connection resolves', async () => {
    const { node } = setup();
    const a = node('A');
    await a.svc.start();
    await a.redis.quit();
    await expect(a.svc.stop()).resolves.toBeUndefined();
  });

  it('after its own connection drops and comes back, holds sweeps for one key lifetime (peers were cut off too), while an explicit sweep still works', async () => {
    const { keys, admin, node, deadNode } = setup();
    const a = node('A', ['default'], 5000);
    await a.svc.start();
    // B looks dead only because the same outage kept it from beating: its key is gone.
    await deadNode('B', { default: [job(1)] });
    const reconnected = new Promise<void>((resolve) => a.redis.once('ready', () => resolve()));
    await admin.client('KILL', 'ID', String(await a.redis.client('ID')));
    await reconnected;
    await a.svc.beat();
    expect(await admin.llen(keys.inProgress('default', 'B'))).toBe(1);
    expect(await admin.llen(keys.queue('default'))).toBe(0);
    expect(a.view.logs.some((l) => l.msg === 'dead-node sweeps held for one key lifetime after an outage')).toBe(true);
    // An operator's explicit sweep is not held.
    const recovered = await a.svc.recoverDeadNodes();
    expect(recovered.map((r) => [r.node, r.moved])).toEqual([['B', 1]]);
    expect(await admin.lrange(keys.queue('default'), 0, -1)).toEqual([job(1)]);
  });
});
