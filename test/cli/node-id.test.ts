/**
 * Issue 16 at the command line (`node bin/kiqgate.js worker`): beside a Verk at its defaults
 * (node id "1", no node key, 4 jobs running in `inprogress:default:1`), a kiqgate worker with
 * default settings leaves those jobs alone and warns once; started with `--node-id 1` beside a
 * live Verk node "1" (its heartbeat key, as Verk writes it), it exits 1 with one line naming it.
 *
 * Each test has its own namespace on the test Redis; waits are bounded polls on real state.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { KeyLayout } from '../../src/wire/index.js';
import { killStrays, logLines, runCli, startCli } from '../support/cli.js';
import { argvStrings, loadFixture } from '../support/fixtures.js';
import { dropNamespace, TEST_REDIS_URL, testRedis, uniqueNamespace } from '../support/redis.js';
import { until } from '../support/wait.js';

const redis = testRedis();
const dir = mkdtempSync(join(tmpdir(), 'kiqgate-nodeid-'));
const namespaces: string[] = [];
afterEach(async () => {
  killStrays();
  for (const ns of namespaces.splice(0)) await dropNamespace(redis, ns);
});
afterAll(async () => {
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

const handlers = join(dir, 'workers.mjs');
writeFileSync(handlers, 'export default { SlowWorker: async () => {} };\n');

/** Four jobs as Verk wrote them (verk-1.7.3/inprogress-restart's job, with four jids). */
function verkJobs(): string[] {
  const f = loadFixture('verk-1.7.3', 'inprogress-restart');
  const job = f.commands.map(argvStrings).find((a) => a[0]?.toLowerCase() === 'lpush')!.at(-1)!;
  const jid = (JSON.parse(job) as { jid: string }).jid;
  return ['11', '12', '13', '14'].map((n) => job.replace(jid, `${jid.slice(0, -2)}${n}`));
}

function namespace(): string {
  const ns = uniqueNamespace('nodeid');
  namespaces.push(ns);
  return ns;
}

describe('kiqgate worker and Verk\'s node ids', () => {
  it('with default settings beside a default Verk (node "1"), its 4 running jobs stay in inprogress:default:1', async () => {
    const ns = namespace();
    const k = new KeyLayout(ns);
    const jobs = verkJobs();
    await redis.lpush(k.inProgress('default', '1'), ...jobs);
    const w = startCli(['worker', '--redis', TEST_REDIS_URL, '--require', handlers, '--namespace', ns, '--timeout', '2']);
    await until(() => logLines(w.output()).some((l) => l.msg === 'worker started'), 'the worker to start', 30_000);
    const lines = logLines(w.output());
    expect(lines.find((l) => l.msg === 'worker starting')?.nodeId).toBe('kiqgate_1');
    expect(lines.filter((l) => String(l.msg).includes("node id '1'"))).toHaveLength(1); // the upgrade hint
    w.kill('SIGTERM');
    expect((await w.exit()).code).toBe(0);
    expect(await redis.lrange(k.inProgress('default', '1'), 0, -1)).toEqual([...jobs].reverse());
    expect(await redis.llen(k.queue('default'))).toBe(0);
  });

  it('with --node-id 1 beside a live Verk node "1": exit 1, one line naming it, its jobs untouched', async () => {
    const ns = namespace();
    const k = new KeyLayout(ns);
    await redis.psetex(k.verkNode('1'), 60_000, 'alive'); // Verk's heartbeat: PSETEX verk:node:<id> 2×heartbeat alive
    await redis.sadd(k.verkNodes, '1');
    await redis.sadd(k.verkNodeQueues('1'), 'default');
    const jobs = verkJobs();
    await redis.lpush(k.inProgress('default', '1'), ...jobs);
    const r = await runCli(['worker', '--redis', TEST_REDIS_URL, '--require', handlers, '--namespace', ns, '--node-id', '1', '--timeout', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^kiqgate worker: node id '1' is held by a live Verk node \\(${ns}:verk:node:1 expires in \\d+ s\\): .*; choose another --node-id`));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(await redis.lrange(k.inProgress('default', '1'), 0, -1)).toEqual([...jobs].reverse());
    expect(await redis.llen(k.queue('default'))).toBe(0);
  });
});
