/**
 * Scenario "failover": a replica promoted while the old primary becomes its replica.
 * (See the note at the REPLICAOF call below for the split-brain window this closes.)
 *
 * Two redis-servers, A (primary) and B (`--replicaof A`), and one Redis Sentinel watching
 * them as the group `kiq`. The workers' and the producer's configuration names the writable
 * node the way production setups do: by the sentinel and the group name (ioredis `sentinels` +
 * `name`), never by a fixed host. Mid-run, `SENTINEL FAILOVER kiq` does the promotion for
 * real: B gets `REPLICAOF NO ONE` (and drops its clients); as soon as the sentinel names B, the
 * harness, as the operator, sends `REPLICAOF B` to A, which from then on answers writes with
 * READONLY. Workers must find B through the sentinel (on a
 * reconnect, or on READONLY through kiqgate's `reconnectOnError`) and go on.
 *
 * Replication is asynchronous, so writes A acknowledged after B's last sync are lost by
 * design (Jepsen measured this for Sentinel); those are reported, not failed. Pass: no crash,
 * processing resumes on B, every job sent after A was turned into a replica (and acknowledged)
 * runs.
 */
import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { freePort } from '../../../src/support/redis-server.js';
import {
  type Scenario, type ScenarioContext, type ScenarioResult, SteadyProducer, falseDeaths, fmtMs,
  jitterSleep, logProblems, readRuns, recoveryEvents, runCounts, sleep, tally, waitFor,
} from '../lib/harness.js';

export const failover: Scenario = {
  name: 'failover',
  title: 'replica promoted by Sentinel, old primary turned replica (READONLY)',
  timeoutMs: { quick: 90_000, full: 240_000 },
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const beforeMs = ctx.quick ? 4_000 : 15_000;
    const afterMs = ctx.quick ? 5_000 : 15_000;
    const rate = ctx.quick ? 100 : 200;
    const a = await ctx.group.startRedis();
    const b = await ctx.group.startRedis({ args: ['--replicaof', '127.0.0.1', String(a.port)] });
    const sentinelPort = await freePort();
    const conf = `${ctx.dir}/sentinel.conf`;
    writeFileSync(conf, [
      `port ${sentinelPort}`, 'bind 127.0.0.1', 'daemonize no', `dir ${ctx.dir}`, 'loglevel warning',
      `sentinel monitor kiq 127.0.0.1 ${a.port} 1`,
      'sentinel down-after-milliseconds kiq 2000',
      'sentinel failover-timeout kiq 10000',
      'sentinel parallel-syncs kiq 1',
    ].join('\n'));
    ctx.group.spawnOther('redis-server', [conf, '--sentinel']);
    const sentinel = new Redis({ port: sentinelPort, host: '127.0.0.1', maxRetriesPerRequest: null, retryStrategy: () => 100 });
    sentinel.on('error', () => undefined);
    const adminA = new Redis(a.url, { maxRetriesPerRequest: 1 });
    const adminB = new Redis(b.url, { maxRetriesPerRequest: 1 });
    for (const c of [adminA, adminB]) c.on('error', () => undefined);
    const failures: string[] = [];
    const config = { sentinels: [{ host: '127.0.0.1', port: sentinelPort }], name: 'kiq' };
    const producer = new SteadyProducer(config, { ratePerSec: rate, sleepMs: jitterSleep(20) });
    try {
      const replicaKnown = await waitFor(async () => {
        const reps = (await sentinel.call('SENTINEL', 'REPLICAS', 'kiq').catch(() => [])) as string[][];
        return reps.some((r) => {
          const m = new Map<string, string>();
          for (let i = 0; i + 1 < r.length; i += 2) m.set(r[i]!, r[i + 1]!);
          return m.get('port') === String(b.port) && m.get('master-link-status') === 'ok' && !(m.get('flags') ?? '').includes('down');
        });
      }, 30_000, 200);
      if (!replicaKnown) throw new Error('the sentinel never saw B as a healthy replica of A');

      const workers = [1, 2].map((n) => ctx.group.startWorker({
        label: `worker-${n}`, redis: config, concurrency: 10, runLog: `${ctx.dir}/runs-${n}.log`, log: `${ctx.dir}/worker-${n}.log`,
      }));
      await Promise.all(workers.map((w) => w.ready()));
      ctx.say(`A :${a.port} primary, B :${b.port} replica, sentinel :${sentinelPort}; workers and producer configured with { sentinels, name: 'kiq' }`);
      producer.start();
      await sleep(beforeMs);

      const failoverAt = Date.now();
      await sentinel.call('SENTINEL', 'FAILOVER', 'kiq');
      const switched = await waitFor(async () => {
        const addr = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'kiq')) as string[];
        const roleB = (await adminB.role().catch(() => ['?']))[0];
        return addr[1] === String(b.port) && roleB === 'master';
      }, 30_000, 50);
      const switchedAt = Date.now();
      // The sentinel would turn A into a replica only at its next look at A (up to ~10 s), and
      // until then A, still a primary, keeps taking the writes of every client connected to it
      // (all of them are lost when A resyncs from B). The operator step of the failover: turn A
      // into B's replica now. Clients still on A get READONLY (and UNBLOCKED for a blocked
      // BLMOVE): kiqgate's reconnectOnError reconnects, and the sentinel names B.
      await adminA.call('REPLICAOF', '127.0.0.1', String(b.port));
      const demotedAt = Date.now();
      const aIsReplica = await waitFor(async () => (await adminA.role().catch(() => ['?']))[0] === 'slave', 15_000, 100);
      const readonlyError = await adminA.lpush('queue:chaos', 'probe').then(() => 'write accepted', (e: Error) => e.message.split(' ')[0]);
      ctx.say(`SENTINEL FAILOVER: B is the primary ${fmtMs(switchedAt - failoverAt)} after the command; A made a replica of B ${fmtMs(demotedAt - failoverAt)} after the command (${aIsReplica}); a write to A answers ${readonlyError}`);

      await sleep(afterMs);
      await producer.stop();
      // By when each write was sent: one sent before A answered READONLY may have landed on A
      // after B's promotion and be lost with A's data (the split window, reported, not failed),
      // even when its reply came after the switch was seen; one sent after A's demotion cannot.
      const acked = [...producer.acked];
      const ackedBefore = acked.filter(([, t]) => t.ackedAt < failoverAt).map(([j]) => j);
      const ackedDuring = acked.filter(([, t]) => t.ackedAt >= failoverAt && t.sentAt < demotedAt).map(([j]) => j);
      const ackedAfter = acked.filter(([, t]) => t.sentAt >= demotedAt).map(([j]) => j);
      const all = acked.map(([j]) => j);
      await waitFor(() => tally(ackedAfter, runCounts(readRuns(ctx.dir))).lost.length === 0, ctx.quick ? 30_000 : 60_000, 250);
      await sleep(1_000);
      const runs = readRuns(ctx.dir);
      const counts = runCounts(runs);
      const tAll = tally(all, counts);
      const tAfter = tally(ackedAfter, counts);
      const lostBefore = tally(ackedBefore, counts).lost.length;
      const lostDuring = tally(ackedDuring, counts).lost.length;
      const firstAfter = runs.filter((r) => ackedAfter.includes(r.jid)).map((r) => r.atMs);
      const resumeMs = firstAfter.length ? Math.min(...firstAfter) - failoverAt : NaN;
      const ranOnB = Number(await adminB.hlen('runs').catch(() => 0));
      // Which recorded runs B's `runs` hash lacks, by when they ran (diagnostics: lost writes).
      const onB = await adminB.hgetall('runs').catch(() => ({} as Record<string, string>));
      const missingOnB = { before: 0, during: 0, after: 0 };
      for (const r of runs) {
        if (onB[r.jid] !== undefined) continue;
        missingOnB[r.atMs < failoverAt ? 'before' : r.atMs < switchedAt ? 'during' : 'after']++;
      }
      const crashed = ctx.group.crashed();
      const alive = workers.filter((w) => w.alive).length;
      const problems = logProblems(ctx.dir);
      const readonlySeen = Object.entries(problems).filter(([m]) => /READONLY/.test(m)).reduce((s, [, n]) => s + n, 0);
      await ctx.group.stopWorkers();

      ctx.say(`acknowledged ${all.length} (${ackedBefore.length} before, ${ackedDuring.length} during, ${ackedAfter.length} sent after A's demotion)`);
      ctx.say(`lost ${tAll.lost.length} (before ${lostBefore}, during ${lostDuring}, after ${tAfter.lost.length}); duplicated ${tAll.duplicated.length}; first job enqueued after the switch ran ${fmtMs(resumeMs)} after the failover command`);
      ctx.say(`run records (HINCRBY) lost with A's writes in the split window: ${missingOnB.before + missingOnB.during + missingOnB.after}; crashed ${crashed.length}; producer errors ${producer.errors}; false deaths ${falseDeaths(recoveryEvents(ctx.dir), new Map()).length}`);

      if (!switched) failures.push('the sentinel did not promote B');
      if (tAfter.lost.length > 0) failures.push(`${tAfter.lost.length} jobs sent after A's demotion never ran (workers did not go on)`);
      if (!Number.isFinite(resumeMs)) failures.push('processing did not resume after the failover');
      if (crashed.length > 0 || alive < workers.length) failures.push(...crashed.map((w) => `crash: ${w.describeExit()}`), ...(crashed.length === 0 && alive < workers.length ? ['a worker exited'] : []));
      return {
        pass: failures.length === 0,
        failures,
        summary: `switch ${fmtMs(switchedAt - failoverAt)}, resume ${fmtMs(resumeMs)}, ${all.length} jobs: lost ${tAll.lost.length} (${lostBefore + lostDuring} in the replication window), dup ${tAll.duplicated.length}`,
        figures: {
          rate, switchMs: switchedAt - failoverAt, resumeMs, oldPrimaryWriteAnswer: readonlyError,
          acked: { before: ackedBefore.length, during: ackedDuring.length, after: ackedAfter.length },
          lost: { total: tAll.lost.length, before: lostBefore, during: lostDuring, after: tAfter.lost.length },
          duplicated: tAll.duplicated.length, runsRecordedOnB: ranOnB, runsMissingOnB: missingOnB, readonlyLogLines: readonlySeen,
          producerErrors: producer.errors, crashed: crashed.length, workerLogProblems: problems,
        },
      };
    } finally {
      await producer.close().catch(() => undefined);
      for (const c of [sentinel, adminA, adminB]) c.disconnect();
    }
  },
};
