/**
 * `kiqgate enqueue --peer resque` and `kiqgate worker --peer resque` as real processes, and the
 * prune of a killed kiqgate worker by a Resque worker: the job is not lost.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Worker } from '../../src/engine/index.js';
import { KeyLayout } from '../../src/wire/index.js';
import { resqueFailureEntry, resqueKeys, unregisterPlan } from '../../src/wire/dialects/resque.js';
import { killStrays, runCli, startCli } from '../support/cli.js';
import { argvStrings, loadFixture } from '../support/fixtures.js';
import { dropNamespace, TEST_REDIS_URL, testRedis, uniqueNamespace } from '../support/redis.js';
import { until } from '../support/wait.js';
import { silent } from '../engine/helpers.js';

const redis = testRedis();
const dir = mkdtempSync(join(tmpdir(), 'kiqgate-resque-'));
const namespaces: string[] = [];
afterEach(async () => {
  killStrays();
  for (const n of namespaces.splice(0)) await dropNamespace(redis, n);
});
afterAll(async () => {
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

function ns(): string {
  const n = uniqueNamespace('rqcli');
  namespaces.push(n);
  return n;
}

/** A workers module: Echo records its args in `<ns>:seen`; Hang never finishes. */
const workers = join(dir, 'workers.mjs');
writeFileSync(workers, `import { createRequire } from 'node:module';
const { Redis } = createRequire(${JSON.stringify(join(process.cwd(), 'package.json'))})('ioredis');
const redis = new Redis(process.env.RQ_REDIS);
export default {
  handlers: {
    Echo: async (args) => { await redis.rpush(process.env.RQ_NS + ':seen', JSON.stringify(args)); },
    Hang: () => new Promise(() => {}),
  },
  async shutdown() { redis.disconnect(); },
};
`);

describe('kiqgate enqueue --peer resque', () => {
  it('sends SADD queues + RPUSH queue:<q> with exactly {"class","args"} and prints the derived id', async () => {
    const n = ns();
    const r = await runCli(['enqueue', '--redis', TEST_REDIS_URL, '--peer', 'resque', '--namespace', n, '--queue', 'critical', '--class', 'HardJob', '--args', '[1, "two", {"three": 3}, 18446744073709551616, 1.0]']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^[0-9a-f]{24}$/);
    expect(await redis.smembers(`${n}:queues`)).toEqual(['critical']);
    expect(await redis.lrange(`${n}:queue:critical`, 0, -1)).toEqual(['{"class":"HardJob","args":[1,"two",{"three":3},18446744073709551616,1.0]}']);
  });

  it('refuses --in (Resque core has no scheduled jobs) in one line naming the field', async () => {
    const n = ns();
    const r = await runCli(['enqueue', '--redis', TEST_REDIS_URL, '--peer', 'resque', '--namespace', n, '--class', 'C', '--args', '[]', '--in', '60']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/'in'.*resque-scheduler/);
    expect(await redis.keys(`${n}:*`)).toEqual([]);
  });
});

describe('kiqgate worker --peer resque', () => {
  it('runs Resque jobs from <ns>:queue:<q>, registers while up and unregisters at SIGTERM', async () => {
    const n = ns();
    await redis.rpush(`${n}:queue:default`, '{"class":"Echo","args":[1]}', '{"class":"Echo","args":[2]}');
    const w = startCli(['worker', '--redis', TEST_REDIS_URL, '--peer', 'resque', '--namespace', n, '--queue', 'default:5', '--require', workers], { RQ_REDIS: TEST_REDIS_URL, RQ_NS: n });
    await until(async () => (await redis.llen(`${n}:seen`)) === 2 || undefined, 'both jobs ran', 20_000);
    const [id] = await redis.smembers(`${n}:workers`);
    expect(id).toMatch(/^[^:]+:\d+:default$/);
    w.kill('SIGTERM');
    const exit = await w.exit();
    expect(exit.code, exit.err).toBe(0);
    expect(await redis.smembers(`${n}:workers`)).toEqual([]);
    expect(await redis.get(`${n}:stat:processed`)).toBe('2');
  });
});

describe('a Resque worker prunes a killed kiqgate worker', () => {
  it('the job it ran is not lost: the next kiqgate worker runs it (and Resque\'s DirtyExit entry stays in failed)', async () => {
    const n = ns();
    const payload = '{"class":"Hang","args":["slow"]}';
    await redis.rpush(`${n}:queue:default`, payload);
    const dead = startCli(['worker', '--redis', TEST_REDIS_URL, '--peer', 'resque', '--namespace', n, '--queue', 'default:1', '--require', workers], { RQ_REDIS: TEST_REDIS_URL, RQ_NS: n });
    const [id] = await until(async () => ((await redis.exists(`${n}:worker:${(await redis.smembers(`${n}:workers`))[0]}`)) ? redis.smembers(`${n}:workers`) : undefined), 'the job running', 20_000);
    dead.kill('SIGKILL');
    await dead.exit();

    // What Resque's pruning worker sends (fixture worker-prune-dead, resque-wire.md §5.2/§5.5):
    // GET worker:<id>, RPUSH failed <DirtyExit entry>, then the unregister pipeline.
    const prune = loadFixture('resque-3.0.0', 'worker-prune-dead').commands.map(argvStrings);
    const theirs = JSON.parse(prune.find((a) => a[0] === 'rpush' && a[1] === 'resque:failed')![2]!) as { exception: string; error: string };
    const working = JSON.parse((await redis.get(`${n}:worker:${id}`))!) as { queue: string; payload: unknown };
    await redis.rpush(`${n}:failed`, resqueFailureEntry({
      payloadJson: JSON.stringify(working.payload), exception: theirs.exception, error: theirs.error, backtrace: [], worker: id!, queue: working.queue, atMs: Date.now(),
    }));
    const pipe = redis.pipeline();
    for (const [name, ...args] of unregisterPlan(resqueKeys(new KeyLayout(n)), id!)) pipe.call(name, ...args);
    await pipe.exec();
    expect(await redis.keys(`${n}:worker:*`)).toEqual([]);

    const ran: unknown[] = [];
    const next = new Worker({ redis: TEST_REDIS_URL, peer: 'resque', namespace: n, queues: { default: 1 }, logger: silent, handlers: { Hang: (args) => { ran.push(args); } } });
    try {
      await next.start();
      await until(() => ran.length > 0 || undefined, 'the pruned worker\'s job ran again');
      expect(ran).toEqual([['slow']]);
      await until(async () => (await redis.keys(`${n}:inprogress:*`)).length === 0 || undefined, 'acked');
    } finally {
      await next.stop();
    }
    expect(await redis.llen(`${n}:queue:default`)).toBe(0);
    const failed = (await redis.lrange(`${n}:failed`, 0, -1)).map((e) => JSON.parse(e) as Record<string, unknown>);
    expect(failed).toHaveLength(1); // Resque's DirtyExit copy: what a user sees beside the re-run
    expect(failed[0]).toMatchObject({ exception: 'Resque::DirtyExit', payload: JSON.parse(payload), worker: id });
  });
});
