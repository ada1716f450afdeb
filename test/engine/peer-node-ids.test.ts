/**
 * Issue 16: a fixed node id held by a live node of another runtime on the same Redis (a Verk
 * node, an Exq node) keeps the worker from starting, with an error naming that node, and leaves
 * its in-progress jobs alone; once the node's heartbeat key is gone, the worker starts. The
 * peers' keys are replayed from the fixtures' captured commands (Verk's node heartbeat from
 * verk-1.7.3/node-recovery, Exq's node ping from exq-0.23.0/worker-success), in the test's
 * namespace. The default node id is neither Verk's nor Exq's, and a worker with the default id
 * warns of jobs left in the old default's (`1`) in-progress lists without taking them.
 */
import { hostname } from 'node:os';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_NODE_ID, NodeIdHeldByPeerError, NodeIdInUseError, resolveConfig, type Worker, type WorkerOptions,
} from '../../src/engine/index.js';
import { KeyLayout } from '../../src/wire/index.js';
import { argvStrings } from '../support/fixtures.js';
import { testRedis, uniqueNamespace } from '../support/redis.js';
import { fixture, pushedPayloads, stopWorkersAfterEach, testWorker, until } from './helpers.js';

const redis = testRedis();
const workers: Worker[] = [];
const namespaces: string[] = [];
stopWorkersAfterEach(redis, workers, namespaces);

function namespace(): string {
  const ns = uniqueNamespace('peer');
  namespaces.push(ns);
  return ns;
}

function worker(ns: string, opts: WorkerOptions): Worker {
  const w = testWorker({ namespace: ns, heartbeatMs: 500, queues: { default: 4 }, ...opts });
  workers.push(w);
  return w;
}

/** Four jobs as Verk wrote them (the fixture's job, with four jids). */
function verkJobs(): string[] {
  const [job] = pushedPayloads('verk-1.7.3/node-recovery');
  const jid = (JSON.parse(job!) as { jid: string }).jid;
  return ['11', '12', '13', '14'].map((n) => job!.replace(jid, `${jid.slice(0, -2)}${n}`));
}

/**
 * Replays the writes a live Verk node makes for its own id (PSETEX verk:node:<id>, SADD
 * verk_nodes, SADD verk:node:<id>:queues) with the id `node`, in namespace `ns`. `ttlMs`: the
 * PSETEX TTL (2 × Verk's default heartbeat unless given), or null for an expired key (not written).
 */
async function replayVerkNode(ns: string, node: string, ttlMs: number | null = 60_000): Promise<void> {
  const commands = fixture('verk-1.7.3/node-recovery').commands.map(argvStrings);
  const psetex = commands.find((a) => a[0] === 'PSETEX')!;
  const dead = psetex[1]!.slice('verk:node:'.length); // node A, killed later in the fixture
  const writes = commands.filter((a) => a.some((x) => x.includes(dead)) && ['PSETEX', 'SADD'].includes(a[0]!)).slice(0, 3);
  expect(writes.map((a) => a.slice(0, 2))).toEqual([['PSETEX', `verk:node:${dead}`], ['SADD', 'verk_nodes'], ['SADD', `verk:node:${dead}:queues`]]);
  const keys = new KeyLayout(ns);
  for (const [cmd, key, ...rest] of writes) {
    const args = rest.map((x) => (x === dead ? node : x));
    if (cmd === 'PSETEX') {
      if (ttlMs === null) continue;
      args[0] = String(ttlMs);
    }
    await redis.call(cmd!, keys.key(key!.replace(dead, node)), ...args);
  }
}

/**
 * Replays Exq's first node ping (SADD <ns>:processes, HMSET <ns>:<node>, EXPIRE <ns>:<node> 60)
 * from the fixture (namespace `exq`, node `vm`) into namespace `ns`; `expired` leaves the hash
 * out (its 60 s TTL ran out; Exq prunes the set member later).
 */
async function replayExqPing(ns: string, expired = false): Promise<void> {
  const commands = fixture('exq-0.23.0/worker-success').commands.map(argvStrings);
  const ping = ['SADD', 'HMSET', 'EXPIRE'].map((cmd) => commands.find((a) => a[0] === cmd && ['exq:processes', 'exq:vm'].includes(a[1]!))!);
  expect(ping.map((a) => a.slice(0, 3))).toEqual([['SADD', 'exq:processes', 'vm'], ['HMSET', 'exq:vm', 'info'], ['EXPIRE', 'exq:vm', '60']]);
  for (const [cmd, key, ...rest] of expired ? ping.slice(0, 1) : ping) {
    await redis.call(cmd!, `${ns}:${key!.slice('exq:'.length)}`, ...rest);
  }
}

async function startError(w: Worker): Promise<unknown> {
  return w.start().then(() => undefined, (e: unknown) => e);
}

describe('a node id held by a live Verk or Exq node', () => {
  it('a live Verk node "1": the worker refuses to start, naming it; its in-progress jobs and node keys stay', async () => {
    const ns = namespace();
    const k = new KeyLayout(ns);
    await replayVerkNode(ns, '1');
    const jobs = verkJobs();
    await redis.lpush(k.inProgress('default', '1'), ...jobs);
    const ran: string[] = [];
    const w = worker(ns, { nodeId: '1', handlers: { SlowWorker: (args) => { ran.push(String(args[0])); } } });

    const err = await startError(w);
    expect(err).toBeInstanceOf(NodeIdHeldByPeerError);
    expect(err).toBeInstanceOf(NodeIdInUseError);
    expect((err as Error).message).toMatch(new RegExp(`^node id '1' is held by a live Verk node \\(${ns}:verk:node:1 expires in \\d+ s\\): kiqgate would give back its in-progress jobs .*; choose another --node-id`));
    expect((err as Error).message).not.toContain('\n');
    expect(await redis.lrange(k.inProgress('default', '1'), 0, -1)).toEqual([...jobs].reverse());
    expect(await redis.llen(k.queue('default'))).toBe(0);
    expect(await redis.get(k.verkNode('1'))).toBe('alive');
    expect(await redis.smembers(k.verkNodes)).toEqual(['1']);
    expect(await redis.exists(k.nodeClaim('1'))).toBe(0); // refused before claiming
    expect(ran).toEqual([]);
  });

  it('a Verk node "1" whose heartbeat key expired (or has no TTL): the worker starts and recovers inprogress:<q>:1', async () => {
    for (const ttl of [null, 'none'] as const) {
      const ns = namespace();
      const k = new KeyLayout(ns);
      await replayVerkNode(ns, '1', ttl === null ? null : 60_000);
      if (ttl === 'none') await redis.persist(k.verkNode('1')); // PTTL -1: Verk takes it for dead too
      const jobs = verkJobs();
      await redis.lpush(k.inProgress('default', '1'), ...jobs);
      const ran: string[] = [];
      const w = worker(ns, { nodeId: '1', handlers: { SlowWorker: (_args, ctx) => { ran.push(String(ctx.jid)); } } });
      await w.start();
      await until(() => ran.length === 4, 'the four recovered jobs to run');
      expect(ran.sort()).toEqual(jobs.map((j) => (JSON.parse(j) as { jid: string }).jid).sort());
      await until(async () => (await redis.llen(k.inProgress('default', '1'))) === 0, 'the acks');
    }
  });

  it('a live Exq node (its 5 s node ping): a worker with that node id refuses to start, naming it', async () => {
    const ns = namespace();
    const k = new KeyLayout(ns);
    await replayExqPing(ns);
    const w = worker(ns, { nodeId: 'vm' });
    const err = await startError(w);
    expect(err).toBeInstanceOf(NodeIdHeldByPeerError);
    expect((err as Error).message).toMatch(new RegExp(`^node id 'vm' is held by a live Exq node \\(${ns}:vm expires in \\d+ s\\): .*; choose another --node-id`));
    expect(await redis.hexists(`${ns}:vm`, 'info')).toBe(1);
    expect(await redis.exists(k.nodeClaim('vm'))).toBe(0);
  });

  it('an Exq node whose ping hash expired: the worker starts; so does one whose id only names a key of another type', async () => {
    const ns = namespace();
    const k = new KeyLayout(ns);
    await replayExqPing(ns, true);
    const w = worker(ns, { nodeId: 'vm' });
    await w.start();
    expect(await redis.exists(k.nodeClaim('vm'))).toBe(1);

    const ns2 = namespace();
    await redis.zadd(new KeyLayout(ns2).retry, 1, 'x'); // `<ns>:retry` is a zset, not an Exq node hash
    await redis.sadd(`${ns2}:processes`, 'retry');
    await worker(ns2, { nodeId: 'retry' }).start();
  });

  it('Exq builds its node keys as "<ns>:" + name even with no namespace', () => {
    expect(new KeyLayout().exqProcesses).toBe(':processes');
    expect(new KeyLayout().exqNode('vm')).toBe(':vm');
    expect(new KeyLayout('exq').exqNode('vm')).toBe('exq:vm');
  });
});

describe('the default node id', () => {
  it('is neither Verk\'s default ("1") nor Exq\'s (the hostname) nor a Verk generated id (digits)', () => {
    const id = resolveConfig({}).nodeId;
    expect(id).toBe(DEFAULT_NODE_ID);
    expect(id).not.toBe('1');
    expect(id).not.toBe(hostname());
    expect(id).not.toMatch(/^\d+$/);
    expect(id).not.toMatch(/^[a-z0-9-.]+$/i); // no RFC 1123 hostname can equal it
  });

  it('jobs left in the old default\'s lists (inprogress:<q>:1) are not taken; one warning says how to recover them', async () => {
    const ns = namespace();
    const k = new KeyLayout(ns);
    const jobs = verkJobs().slice(0, 2);
    await redis.lpush(k.inProgress('default', '1'), ...jobs);
    const lines: string[] = [];
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
    const ran: string[] = [];
    const w = worker(ns, { logger: pino({ level: 'warn' }, sink), handlers: { SlowWorker: (_a, ctx) => { ran.push(String(ctx.jid)); } } });
    await w.start();
    expect(w.nodeId).toBe(DEFAULT_NODE_ID);
    const warnings = lines.map((l) => JSON.parse(l) as { msg: string; jobs?: number }).filter((l) => l.msg.includes("node id '1'"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.jobs).toBe(2);
    expect(warnings[0]!.msg).toMatch(/run one worker once with --node-id 1/);
    await w.stop();
    expect(await redis.llen(k.inProgress('default', '1'))).toBe(2);
    expect(ran).toEqual([]);

    // The same lists held by a live Verk node "1": they are that node's, no warning.
    lines.length = 0;
    await replayVerkNode(ns, '1');
    const w2 = worker(ns, { logger: pino({ level: 'warn' }, sink) });
    await w2.start();
    expect(lines.filter((l) => l.includes("node id '1'"))).toEqual([]);
  });
});
