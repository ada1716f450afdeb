/**
 * Scenario "scriptflush": `SCRIPT FLUSH` mid-run, several times, while 2 worker processes
 * fetch (ack-and-fetch-5.lua), promote scheduled jobs (promote-3.lua) and recover nodes
 * (requeue-2.lua).
 *
 * Every script call of the engine answers NOSCRIPT by sending the script body with EVAL (its own
 * EVALSHA call on a connection, ioredis `defineCommand` in a pipeline): src/engine/scripts.ts.
 * Pass: every job runs once, `stat:failed` is 0, retry and dead stay empty, nothing is left in
 * a queue or an in-progress list (no stuck runner), no crash.
 */
import { Redis } from 'ioredis';
import { Client } from '../../../src/client/index.js';
import {
  type Scenario, type ScenarioContext, type ScenarioResult, inProgressNow, jitterSleep, logProblems,
  readRuns, runCounts, sleep, tally, waitFor,
} from '../lib/harness.js';

export const scriptflush: Scenario = {
  name: 'scriptflush',
  title: 'SCRIPT FLUSH mid-run',
  timeoutMs: { quick: 60_000, full: 180_000 },
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const jobs = ctx.quick ? 2_000 : 10_000;
    const scheduled = ctx.quick ? 200 : 1_000;
    const flushes = ctx.quick ? 6 : 20;
    const flushEveryMs = 700;
    const server = await ctx.group.startRedis();
    const admin = new Redis(server.url, { maxRetriesPerRequest: null });
    const failures: string[] = [];
    try {
      const workers = [1, 2].map((n) => ctx.group.startWorker({
        label: `worker-${n}`, redis: server.url, concurrency: 10, pollIntervalMs: 300,
        runLog: `${ctx.dir}/runs-${n}.log`, log: `${ctx.dir}/worker-${n}.log`,
      }));
      await Promise.all(workers.map((w) => w.ready()));
      const client = new Client({ redis: server.url });
      const sleepMs = jitterSleep(10);
      const now = Date.now();
      // Scheduled jobs due over the flush window, so promote-3.lua runs between flushes.
      const at = Array.from({ length: scheduled }, (_, i) => now + 500 + (i * flushes * flushEveryMs) / scheduled);
      const expected = [
        ...(await client.enqueueBulk({ class: 'ChaosJob', queue: 'chaos', args: at.map(() => [sleepMs()]), at })),
        ...(await client.enqueueBulk({ class: 'ChaosJob', queue: 'chaos', args: Array.from({ length: jobs }, () => [sleepMs()]) })),
      ];
      await client.close();
      ctx.say(`${jobs} jobs + ${scheduled} scheduled, 2 workers × 10; SCRIPT FLUSH ${flushes}× every ${flushEveryMs} ms`);
      for (let i = 0; i < flushes; i++) {
        await sleep(flushEveryMs);
        await admin.script('FLUSH');
        // More work arrives between flushes, so fetches keep running after each one.
        const more = await new Client({ redis: admin }).enqueueBulk({ class: 'ChaosJob', queue: 'chaos', args: Array.from({ length: 100 }, () => [sleepMs()]) });
        expected.push(...more);
      }
      const allRan = await waitFor(() => tally(expected, runCounts(readRuns(ctx.dir))).lost.length === 0, ctx.quick ? 30_000 : 90_000, 250);
      await sleep(500);
      const end = {
        failed: Number(await admin.get('stat:failed') ?? 0), retry: await admin.zcard('retry'), dead: await admin.zcard('dead'),
        queue: await admin.llen('queue:chaos'), schedule: await admin.zcard('schedule'), inProgress: (await inProgressNow(admin, 'chaos')).total,
      };
      const crashed = ctx.group.crashed();
      await ctx.group.stopWorkers();
      const t = tally(expected, runCounts(readRuns(ctx.dir)));
      const problems = logProblems(ctx.dir);
      const noscript = Object.entries(problems).filter(([m]) => /NOSCRIPT|fail/i.test(m)).reduce((s, [, n]) => s + n, 0);
      ctx.say(`ran ${expected.length - t.lost.length} of ${expected.length}; lost ${t.lost.length}, duplicated ${t.duplicated.length}`);
      ctx.say(`stat:failed ${end.failed}, retry ${end.retry}, dead ${end.dead}; left in queue ${end.queue}, schedule ${end.schedule}, in progress ${end.inProgress}; crashed ${crashed.length}; worker warnings/errors ${noscript}`);
      if (!allRan || t.lost.length > 0) failures.push(`stuck or lost: ${t.lost.length} jobs never ran`);
      if (end.failed > 0 || end.retry > 0 || end.dead > 0) failures.push(`failed jobs: ${JSON.stringify(end)}`);
      if (end.queue + end.schedule + end.inProgress > 0) failures.push(`left over: ${JSON.stringify(end)}`);
      if (crashed.length > 0) failures.push(...crashed.map((w) => `crash: ${w.describeExit()}`));
      return {
        pass: failures.length === 0,
        failures,
        summary: `${flushes} flushes, ${expected.length} jobs: lost ${t.lost.length}, failed ${end.failed}, retry+dead ${end.retry + end.dead}, stuck ${end.queue + end.schedule + end.inProgress}`,
        figures: { jobs: expected.length, scheduled, flushes, lost: t.lost.length, duplicated: t.duplicated.length, end, crashed: crashed.length, workerLogProblems: problems },
      };
    } finally {
      admin.disconnect();
    }
  },
};
