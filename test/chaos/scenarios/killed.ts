/**
 * Scenario "killed": worker processes SIGKILLed mid-run and replaced.
 *
 * N ChaosJobs are enqueued at once; 3 worker processes (generated node ids, 1 s heartbeat)
 * drain them; every few seconds one is SIGKILLed and a new one (a new node id) started. Just
 * after each kill the dead node's `inprogress:chaos:<node>` list is read (its orphans: the jobs
 * it had fetched and not acked), then polled until a peer's sweep has moved them back.
 *
 * Pass: every jid ran (lost 0), duplicates ≤ the jobs in flight at the kills, no process
 * crashed, nothing left in queues. Duplicates that were not among a kill's orphans are counted
 * apart: they come from "false deaths" (a live node whose heartbeat key expired during a stall
 * longer than 2 heartbeats, so a peer requeued its running jobs), which the worker logs show.
 */
import { Redis } from 'ioredis';
import { Client } from '../../../src/client/index.js';
import type { WorkerProc } from '../lib/children.js';
import {
  type Scenario, type ScenarioContext, type ScenarioResult, fmtMs, inProgressNow, jitterSleep,
  falseDeaths, logProblems, quantile, readRuns, recoveryEvents, runCounts, sleep, tally, waitFor,
} from '../lib/harness.js';

interface Kill { atMs: number; node: string; inFlightBefore: number; orphans: number; recoveryMs?: number }

export const killed: Scenario = {
  name: 'killed',
  title: 'workers SIGKILLed and replaced',
  timeoutMs: { quick: 90_000, full: 420_000 },
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const jobs = ctx.quick ? 3_000 : 20_000;
    const killEveryMs = ctx.quick ? 2_500 : 4_000;
    const heartbeatMs = 1_000;
    const avgSleepMs = 100;
    const concurrency = 10;
    const server = await ctx.group.startRedis();
    const admin = new Redis(server.url, { maxRetriesPerRequest: null });
    const failures: string[] = [];
    let n = 0;
    const spawnWorker = (): WorkerProc => {
      n++;
      return ctx.group.startWorker({
        label: `worker-${n}`, redis: server.url, concurrency, heartbeatMs,
        runLog: `${ctx.dir}/runs-${n}.log`, log: `${ctx.dir}/worker-${n}.log`,
      });
    };
    try {
      const live: WorkerProc[] = [spawnWorker(), spawnWorker(), spawnWorker()];
      await Promise.all(live.map((w) => w.ready()));

      const client = new Client({ redis: server.url });
      const expected = await client.enqueueBulk({ class: 'ChaosJob', queue: 'chaos', args: Array.from({ length: jobs }, jitterSleep(avgSleepMs)).map((ms) => [ms]) });
      await client.close();
      const startedAt = Date.now();
      ctx.say(`${jobs} jobs enqueued; 3 workers × ${concurrency}, heartbeat ${heartbeatMs} ms, a SIGKILL every ${killEveryMs} ms`);

      const kills: Kill[] = [];
      const orphanJids = new Set<string>();
      const recoveries: Array<Promise<void>> = [];
      const deadline = startedAt + (ctx.quick ? 60_000 : 360_000);
      const done = async () => (await admin.hlen('runs')) >= jobs;

      while (!(await done()) && Date.now() < deadline) {
        await sleep(killEveryMs);
        if (await done()) break;
        const candidates = live.filter((w) => w.alive && w.nodeId);
        const victim = candidates[Math.floor(Math.random() * candidates.length)];
        if (!victim) continue;
        const key = `inprogress:chaos:${victim.nodeId}`;
        const inFlightBefore = await admin.llen(key);
        await victim.sigkill();
        const atMs = Date.now();
        const orphanList = await admin.lrange(key, 0, -1);
        for (const raw of orphanList) {
          try { orphanJids.add((JSON.parse(raw) as { jid: string }).jid); } catch { /* not ours */ }
        }
        const kill: Kill = { atMs, node: victim.nodeId!, inFlightBefore, orphans: orphanList.length };
        kills.push(kill);
        live.splice(live.indexOf(victim), 1);
        live.push(spawnWorker());
        recoveries.push((async () => {
          const ok = await waitFor(async () => (await admin.llen(key)) === 0, 30_000, 25);
          if (ok) kill.recoveryMs = Date.now() - atMs;
        })());
      }
      const allRan = await waitFor(done, Math.max(0, deadline - Date.now()) + 15_000, 200);
      await Promise.all(recoveries);
      const runningFor = Date.now() - startedAt;
      await sleep(300);
      const endState = { queue: await admin.llen('queue:chaos'), inProgress: (await inProgressNow(admin, 'chaos')).total, retry: await admin.zcard('retry'), dead: await admin.zcard('dead') };
      const crashedBeforeStop = ctx.group.crashed();
      await ctx.group.stopWorkers();

      const runs = readRuns(ctx.dir);
      const counts = runCounts(runs);
      const t = tally(expected, counts);
      const outsideOrphans = t.duplicated.filter((j) => !orphanJids.has(j));
      const redisRuns = await admin.hgetall('runs');
      const redisMismatch = expected.filter((j) => Number(redisRuns[j] ?? 0) !== (counts.get(j) ?? 0)).length;
      const killedAt = new Map(kills.map((k) => [k.node, k.atMs]));
      const falseDead = falseDeaths(recoveryEvents(ctx.dir), killedAt);
      const inFlightTotal = kills.reduce((s, k) => s + k.orphans, 0);
      const recoveryTimes = kills.map((k) => k.recoveryMs).filter((x): x is number => x !== undefined);
      const unrecovered = kills.filter((k) => k.recoveryMs === undefined && k.orphans > 0).length;
      const times = runs.map((r) => r.atMs);
      const spanMs = times.length > 1 ? Math.max(...times) - Math.min(...times) : NaN;
      const throughput = Math.round((runs.length / spanMs) * 1000);
      const recP50 = quantile(recoveryTimes, 0.5);
      const recMax = recoveryTimes.length ? Math.max(...recoveryTimes) : NaN;

      ctx.say(`kills: ${kills.length}; in flight at the kills: ${inFlightTotal} (orphans read just after each kill; ${kills.map((k) => k.orphans).join(',')})`);
      ctx.say(`lost: ${t.lost.length} of ${jobs}; duplicated: ${t.duplicated.length} (${t.extraRuns} extra runs), ${outsideOrphans.length} of them not among the kills' orphans`);
      ctx.say(`false deaths (a live node's key expired, a peer requeued its jobs): ${falseDead.length}, ${falseDead.reduce((s, e) => s + e.moved, 0)} jobs moved`);
      ctx.say(`recovery (kill → orphans back in the queue or taken): p50 ${fmtMs(recP50)}, max ${fmtMs(recMax)} (heartbeat ${heartbeatMs} ms, target ≤ ${2 * heartbeatMs} ms${recMax > 2 * heartbeatMs ? ': MISSED, see the README' : ''})`);
      ctx.say(`throughput: ${throughput} jobs/s over ${(spanMs / 1000).toFixed(1)} s with the kills; crashed processes: ${crashedBeforeStop.length}; redis runs hash vs run logs mismatches: ${redisMismatch}`);

      if (!allRan) failures.push(`stuck: not every job ran within the deadline (${runningFor} ms)`);
      if (t.lost.length > 0) failures.push(`${t.lost.length} jobs lost (e.g. ${t.lost.slice(0, 3).join(', ')})`);
      if (t.duplicated.length > inFlightTotal) failures.push(`${t.duplicated.length} duplicated > ${inFlightTotal} in flight at the kills`);
      if (outsideOrphans.length > 0 && falseDead.length === 0) failures.push(`${outsideOrphans.length} duplicated jobs were not in flight at any kill, and no false death explains them`);
      if (crashedBeforeStop.length > 0) failures.push(...crashedBeforeStop.map((w) => `crash: ${w.describeExit()}`));
      if (unrecovered > 0) failures.push(`${unrecovered} killed nodes' orphans were never recovered`);
      if (endState.queue + endState.inProgress + endState.retry + endState.dead > 0) failures.push(`left over: ${JSON.stringify(endState)}`);
      if (kills.length === 0) failures.push('no kill happened (the jobs finished too fast)');

      return {
        pass: failures.length === 0,
        failures,
        summary: `kills ${kills.length}, lost ${t.lost.length}, dup ${t.duplicated.length}/${inFlightTotal} in flight, recovery p50 ${fmtMs(recP50)} max ${fmtMs(recMax)}, ${throughput} jobs/s`,
        figures: {
          jobs, workers: 3, concurrency, heartbeatMs, avgJobMs: avgSleepMs, killEveryMs,
          kills: kills.length, inFlightAtKills: inFlightTotal, killsDetail: kills,
          lost: t.lost.length, duplicated: t.duplicated.length, extraRuns: t.extraRuns, duplicatesOutsideOrphans: outsideOrphans.length,
          falseDeaths: falseDead.map((e) => ({ node: e.deadNode, moved: e.moved, atMs: e.atMs })),
          recoveryMs: { p50: recP50, max: recMax, all: recoveryTimes }, throughputJobsPerSec: throughput, spanMs,
          crashed: crashedBeforeStop.length, redisRunsMismatch: redisMismatch, endState, workerLogProblems: logProblems(ctx.dir),
        },
      };
    } finally {
      admin.disconnect();
    }
  },
};
