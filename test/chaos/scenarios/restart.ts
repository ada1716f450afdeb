/**
 * Scenario "restart": the Redis server goes away and comes back on the same port, while a
 * producer (kiqgate's Client, in the harness) enqueues at a steady rate and 2 worker
 * processes consume.
 *
 * Phase A, Redis with AOF (`appendfsync always`, a data dir kept across restarts):
 *   1. stopped with SIGTERM (a clean shutdown), restarted after a pause;
 *   2. killed with SIGKILL (a crash), restarted after a pause.
 *   Then the producer stops and every jid whose LPUSH Redis acknowledged must run: with
 *   `appendfsync always` an acknowledged write is on disk, so nothing may be lost.
 * Phase B, `SHUTDOWN NOSAVE` and a fresh, empty Redis on the same port: what was queued is
 *   gone by design; every jid acknowledged by the fresh server must run.
 * Last, an idle probe: after the queue has been empty for a while, one job is pushed and must
 * run at once (the blocking fetch loops came back after the restarts).
 *
 * Runs are counted from the workers' run logs, which do not depend on the Redis under test.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { freePort, type RedisServerHandle } from '../../../src/support/redis-server.js';
import {
  type Scenario, type ScenarioContext, type ScenarioResult, SteadyProducer, fmtMs, jitterSleep,
  falseDeaths, logProblems, readRuns, recoveryEvents, runCounts, sleep, tally, waitFor,
} from '../lib/harness.js';

interface Outage { kind: string; downAtMs: number; backAtMs: number; downtimeMs: number; resumeMs?: number }

export const restart: Scenario = {
  name: 'restart',
  title: 'Redis restarted (AOF, crash, NOSAVE + fresh server)',
  timeoutMs: { quick: 100_000, full: 300_000 },
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const phaseMs = ctx.quick ? 3_000 : 12_000;
    const downMs = ctx.quick ? 1_500 : 3_000;
    const rate = ctx.quick ? 100 : 200;
    const port = await freePort();
    const aofDir = `${ctx.dir}/aof`;
    mkdirSync(aofDir, { recursive: true });
    const aofArgs = ['--appendonly', 'yes', '--appendfsync', 'always'];
    let server: RedisServerHandle = await ctx.group.startRedis({ port, dir: aofDir, args: aofArgs });
    const url = server.url;
    const failures: string[] = [];
    const outages: Outage[] = [];
    const producer = new SteadyProducer(url, { ratePerSec: rate, sleepMs: jitterSleep(20) });
    try {
      const workers = [1, 2].map((n) => ctx.group.startWorker({
        label: `worker-${n}`, redis: url, concurrency: 10, runLog: `${ctx.dir}/runs-${n}.log`, log: `${ctx.dir}/worker-${n}.log`,
      }));
      await Promise.all(workers.map((w) => w.ready()));
      ctx.say(`2 workers × 10, producer at ${rate} jobs/s; outages of ${downMs} ms every ${phaseMs} ms on port ${port}`);
      producer.start();

      const outage = async (kind: string, down: () => Promise<void>, up: () => Promise<RedisServerHandle>) => {
        await sleep(phaseMs);
        const downAtMs = Date.now();
        await down();
        await sleep(downMs);
        server = await up();
        const backAtMs = Date.now();
        outages.push({ kind, downAtMs, backAtMs, downtimeMs: backAtMs - downAtMs });
      };

      // Phase A: AOF restarts.
      await outage('SIGTERM + restart (AOF)', () => server.stop(), () => ctx.group.startRedis({ port, dir: aofDir, args: aofArgs }));
      await outage('SIGKILL + restart (AOF)', () => server.kill(), () => ctx.group.startRedis({ port, dir: aofDir, args: aofArgs }));
      await sleep(phaseMs);
      await producer.stop();
      const ackedA = [...producer.acked.keys()];
      const drainA = ctx.quick ? 30_000 : 60_000;
      await waitFor(() => tally(ackedA, runCounts(readRuns(ctx.dir))).lost.length === 0, drainA, 250);
      const tA = tally(ackedA, runCounts(readRuns(ctx.dir)));
      ctx.say(`AOF phase: ${ackedA.length} jobs acknowledged to the producer, lost ${tA.lost.length}, duplicated ${tA.duplicated.length}`);

      // Phase B: SHUTDOWN NOSAVE, a fresh empty server on the same port.
      producer.acked.clear();
      producer.start();
      let wipedAtMs = 0;
      await outage('SHUTDOWN NOSAVE + fresh empty server', async () => {
        wipedAtMs = Date.now();
        // redis-cli, not an ioredis connection: ioredis would resend the unanswered SHUTDOWN to the fresh server.
        spawnSync('redis-cli', ['-p', String(port), 'SHUTDOWN', 'NOSAVE'], { timeout: 5_000 });
        const p = server.process;
        if (p.exitCode === null && p.signalCode === null) await new Promise((r) => p.once('exit', r));
      }, () => {
        mkdirSync(`${ctx.dir}/fresh`, { recursive: true });
        return ctx.group.startRedis({ port, dir: `${ctx.dir}/fresh` });
      });
      const freshAt = outages.at(-1)!.backAtMs;
      await sleep(phaseMs);
      await producer.stop();
      const beforeWipe = [...producer.acked].filter(([, t]) => t.ackedAt < wipedAtMs).map(([j]) => j);
      const afterFresh = [...producer.acked].filter(([, t]) => t.ackedAt >= freshAt).map(([j]) => j);
      await waitFor(() => tally(afterFresh, runCounts(readRuns(ctx.dir))).lost.length === 0, drainA, 250);
      const counts = runCounts(readRuns(ctx.dir));
      const tB = tally(afterFresh, counts);
      const wiped = beforeWipe.filter((j) => !counts.has(j)).length;
      ctx.say(`NOSAVE phase: ${afterFresh.length} jobs acknowledged by the fresh server, lost ${tB.lost.length}; ${wiped} of ${beforeWipe.length} queued before the wipe never ran (wiped, expected)`);

      // Idle probe: the blocking loops must be back.
      await sleep(3_000);
      const probeAt = Date.now();
      const probe = await producer.client.enqueue({ class: 'ChaosJob', args: [0], queue: 'chaos' });
      const probeRan = await waitFor(() => runCounts(readRuns(ctx.dir)).has(probe), 10_000, 20);
      const probeRun = readRuns(ctx.dir).find((r) => r.jid === probe);
      const probeMs = probeRun ? probeRun.atMs - probeAt : NaN;

      const runs = readRuns(ctx.dir);
      for (const o of outages) {
        const first = runs.filter((r) => r.atMs >= o.backAtMs).map((r) => r.atMs);
        if (first.length > 0) o.resumeMs = Math.min(...first) - o.backAtMs;
        ctx.say(`${o.kind}: down ${fmtMs(o.downtimeMs)}, first job run ${fmtMs(o.resumeMs ?? NaN)} after Redis was back`);
      }
      const falseDead = falseDeaths(recoveryEvents(ctx.dir), new Map());
      ctx.say(`false deaths (node keys expired during an outage, a peer requeued running jobs): ${falseDead.length}, ${falseDead.reduce((s, e) => s + e.moved, 0)} jobs moved (each can run a job twice)`);
      ctx.say(`idle probe after the restarts: ran ${probeRan ? `${fmtMs(probeMs)} after its push` : 'NEVER'}; producer errors ${producer.errors}`);
      const crashed = ctx.group.crashed();
      const alive = workers.filter((w) => w.alive).length;
      await ctx.group.stopWorkers();

      if (tA.lost.length > 0) failures.push(`AOF phase: ${tA.lost.length} acknowledged jobs lost (e.g. ${tA.lost.slice(0, 3).join(', ')})`);
      if (tB.lost.length > 0) failures.push(`fresh server: ${tB.lost.length} acknowledged jobs never ran (e.g. ${tB.lost.slice(0, 3).join(', ')})`);
      if (!probeRan) failures.push('idle probe job never ran (blocking loops did not resume)');
      if (outages.some((o) => o.resumeMs === undefined)) failures.push('processing did not resume after an outage');
      if (crashed.length > 0 || alive < workers.length) failures.push(...crashed.map((w) => `crash: ${w.describeExit()}`), ...(crashed.length === 0 && alive < workers.length ? ['a worker exited'] : []));
      const resumes = outages.map((o) => o.resumeMs ?? NaN);
      return {
        pass: failures.length === 0,
        failures,
        summary: `lost ${tA.lost.length} (AOF) / ${tB.lost.length} (fresh), dup ${tA.duplicated.length + tB.duplicated.length}, resume ${resumes.map((r) => fmtMs(r)).join(' / ')}, probe ${fmtMs(probeMs)}`,
        figures: {
          rate, downMs, outages, aof: { acked: ackedA.length, lost: tA.lost.length, duplicated: tA.duplicated.length },
          fresh: { acked: afterFresh.length, lost: tB.lost.length, duplicated: tB.duplicated.length, queuedBeforeWipe: beforeWipe.length, wipedNeverRan: wiped },
          falseDeaths: falseDead.length, falseDeathJobsMoved: falseDead.reduce((s, e) => s + e.moved, 0),
          idleProbeMs: probeMs, producerErrors: producer.errors, crashed: crashed.length, workerLogProblems: logProblems(ctx.dir),
        },
      };
    } finally {
      await producer.close().catch(() => undefined);
    }
  },
};
