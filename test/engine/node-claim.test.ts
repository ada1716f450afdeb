/**
 * A fixed node id is held by one running process at a time (kiqgate:node-claim:<node>): a
 * second worker with the same id refuses to start instead of giving back the first one's
 * running jobs; a crashed predecessor's claim is taken over at once on the same host, another
 * host's is waited out, and a claim that is still being refreshed is never taken. A predecessor
 * killed and not yet reaped by its parent (a zombie) counts as gone.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NodeIdInUseError, type Worker } from '../../src/engine/index.js';
import { processHostname } from '../../src/engine/process-identity.js';
import { BIN } from '../support/cli.js';
import { TEST_REDIS_URL, testRedis, uniqueNamespace } from '../support/redis.js';
import { stopWorkersAfterEach, testWorker, until } from './helpers.js';

const redis = testRedis();
const workers: Worker[] = [];
const namespaces: string[] = [];
stopWorkersAfterEach(redis, workers, namespaces);

function worker(ns: string, opts: Parameters<typeof testWorker>[0] = {}): Worker {
  const w = testWorker({ namespace: ns, nodeId: 'n1', heartbeatMs: 200, queues: { default: 1 }, ...opts });
  workers.push(w);
  return w;
}

function job(arg: string): string {
  return JSON.stringify({ class: 'J', args: [arg], queue: 'default', jid: `jid-${arg}`, retry: true });
}

/** The state letter of /proc/<pid>/stat (`Z` for a zombie), or undefined when there is no such process. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** The pid of a process that has exited (so no process has it now, barring reuse). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('node id claim', () => {
  it('a second worker with the same fixed id refuses to start; the first one\'s running job is not given back', async () => {
    const ns = uniqueNamespace('claim');
    namespaces.push(ns);
    let release!: () => void;
    const running = new Promise<void>((r) => { release = r; });
    const started: string[] = [];
    const first = worker(ns, { handlers: { J: async (args) => { started.push(String(args[0])); await running; } } });
    await first.start();
    await redis.lpush(first.keys.queue('default'), job('a'));
    await until(() => started.length === 1, 'the first worker to run the job');

    const second = worker(ns, { handlers: { J: (args) => { started.push(`again ${String(args[0])}`); } } });
    const err = await second.start().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(NodeIdInUseError);
    expect((err as Error).message).toMatch(/node id 'n1' is in use by .*--node-id.*--generate-node-id/);
    expect(await redis.llen(first.keys.inProgress('default', 'n1'))).toBe(1); // still the first one's
    expect(await redis.llen(first.keys.queue('default'))).toBe(0);
    release();
    await until(async () => (await redis.llen(first.keys.inProgress('default', 'n1'))) === 0, 'the ack');
    expect(started).toEqual(['a']);
  });

  it('stop releases the claim: the next worker with that id starts at once', async () => {
    const ns = uniqueNamespace('claim');
    namespaces.push(ns);
    const first = worker(ns, { handlers: { J: () => {} } });
    await first.start();
    const claimKey = first.keys.nodeClaim('n1');
    expect(JSON.parse((await redis.get(claimKey))!)).toMatchObject({ identity: first.identity, pid: process.pid });
    expect(await redis.pttl(claimKey)).toBeGreaterThan(0);
    await first.stop();
    expect(await redis.exists(claimKey)).toBe(0);
    const next = worker(ns, { handlers: { J: () => {} } });
    await next.start();
    expect(JSON.parse((await redis.get(claimKey))!)).toMatchObject({ identity: next.identity });
  });

  it('a claim that lapsed under a running worker (e.g. a Redis restart without persistence) is taken back at the next beat', async () => {
    const ns = uniqueNamespace('claim');
    namespaces.push(ns);
    const w = worker(ns, { handlers: { J: () => {} } });
    await w.start();
    await redis.del(w.keys.nodeClaim('n1'));
    const back = await until(async () => redis.get(w.keys.nodeClaim('n1')), 'the claim to be written again');
    expect(JSON.parse(back)).toMatchObject({ identity: w.identity });
  });

  it('a crashed predecessor on this host (its pid gone) is taken over at once and its in-progress job recovered', async () => {
    const ns = uniqueNamespace('claim');
    namespaces.push(ns);
    const seen: string[] = [];
    const w = worker(ns, { heartbeatMs: 60_000, handlers: { J: (args) => { seen.push(String(args[0])); } } });
    const pid = deadPid();
    const gone = JSON.stringify({ identity: `${processHostname()}:${pid}:abcdefabcdef`, host: processHostname(), pid });
    await redis.set(w.keys.nodeClaim('n1'), gone, 'PX', 120_000);
    await redis.lpush(w.keys.inProgress('default', 'n1'), job('orphan'));
    await w.start(); // no wait for the two-minute TTL
    await until(() => seen.includes('orphan'), 'the predecessor\'s job to run');
    expect(JSON.parse((await redis.get(w.keys.nodeClaim('n1')))!)).toMatchObject({ identity: w.identity });
  });

  it('a predecessor killed with SIGKILL and not yet reaped by its parent (a zombie) counts as gone: taken over at once, its job recovered', async () => {
    const ns = uniqueNamespace('claim');
    namespaces.push(ns);
    const dir = mkdtempSync(join(tmpdir(), 'kiqgate-zombie-'));
    const workers = join(dir, 'workers.mjs');
    writeFileSync(workers, 'export default { J: (args, ctx) => new Promise((resolve) => ctx.signal.addEventListener("abort", resolve)) };\n');
    // sh starts the worker in the background, prints its pid, then becomes `sleep`, which never
    // waits for children: once killed, the worker stays a zombie until `sleep` goes.
    const parent = spawn('sh', ['-c', '"$0" "$@" >/dev/null 2>&1 & echo $!; exec sleep 300',
      process.execPath, BIN, 'worker', '--redis', TEST_REDIS_URL, '--require', workers, '--node-id', 'n1', '--namespace', ns, '--queue', 'default:1'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let out = '';
      parent.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const pid = Number(await until(() => /^\d+\n/.exec(out)?.[0], 'the worker\'s pid', 10_000));
      const seen: string[] = [];
      const second = worker(ns, { handlers: { J: (args) => { seen.push(String(args[0])); } } });
      await redis.lpush(second.keys.queue('default'), job('held'));
      await until(async () => (await redis.llen(second.keys.inProgress('default', 'n1'))) === 1, 'the first worker to run the job', 30_000);
      expect(JSON.parse((await redis.get(second.keys.nodeClaim('n1')))!)).toMatchObject({ pid, host: processHostname() });

      process.kill(pid, 'SIGKILL');
      await until(() => procState(pid) === 'Z', 'the killed worker to be a zombie');
      await second.start(); // not NodeIdInUseError: a zombie's pid still answers kill(pid, 0)
      await until(() => seen.includes('held'), 'the predecessor\'s job to be recovered and run', 30_000);
      expect(JSON.parse((await redis.get(second.keys.nodeClaim('n1')))!)).toMatchObject({ identity: second.identity });
      expect(procState(pid)).toBe('Z'); // still unreaped: it was judged dead as a zombie
    } finally {
      parent.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('another host\'s claim is waited out when it lapses, and refused while it is refreshed', async () => {
    const ns = uniqueNamespace('claim');
    namespaces.push(ns);
    const other = JSON.stringify({ identity: 'elsewhere:42:000000000000', host: 'elsewhere', pid: 42 });
    const seen: string[] = [];
    const lapsing = worker(ns, { handlers: { J: (args) => { seen.push(String(args[0])); } } });
    await redis.set(lapsing.keys.nodeClaim('n1'), other, 'PX', 300);
    await redis.lpush(lapsing.keys.queue('default'), job('after'));
    await lapsing.start();
    await until(() => seen.includes('after'), 'the job, once the stale claim lapsed');
    await lapsing.stop();

    // Now a live holder on another host refreshes its claim: never taken.
    await redis.set(lapsing.keys.nodeClaim('n1'), other, 'PX', 300);
    const refresher = setInterval(() => { void redis.set(lapsing.keys.nodeClaim('n1'), other, 'PX', 300); }, 50);
    try {
      const refused = worker(ns, { handlers: { J: () => {} } });
      const err = await refused.start().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(NodeIdInUseError);
      expect((err as Error).message).toContain('elsewhere:42:000000000000');
      expect(await redis.get(lapsing.keys.nodeClaim('n1'))).toBe(other);
    } finally {
      clearInterval(refresher);
    }
  });

  it('generated node ids take no claim', async () => {
    const ns = uniqueNamespace('claim');
    namespaces.push(ns);
    const w = worker(ns, { nodeId: undefined, generateNodeId: true, handlers: { J: () => {} } });
    await w.start();
    expect(await redis.keys(`${ns}:kiqgate:node-claim:*`)).toEqual([]);
  });
});
