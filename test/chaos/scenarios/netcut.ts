/**
 * Scenario "netcut": the network between the workers and Redis cut and stalled, mid-run.
 *
 * A producer enqueues at a steady rate while 2 worker processes consume; in turn:
 *   - `CLIENT KILL TYPE normal` drops every client connection at once (blocked BLMOVEs,
 *     command connections, the producer's; replies of commands in flight are lost);
 *   - `CLIENT PAUSE <ms> WRITE` stalls every write (acks, fetches, enqueues) but not reads;
 *   - `CLIENT PAUSE <ms> ALL` stalls every command.
 * Each is repeated. Pass: every acknowledged jid runs, none is left in a queue or an in-progress
 * list, no process crashes. Figures: time from the end of each fault to the next job run.
 */
import { Redis } from 'ioredis';
import {
  type Scenario, type ScenarioContext, type ScenarioResult, SteadyProducer, falseDeaths, fmtMs,
  inProgressNow, jitterSleep, logProblems, readRuns, recoveryEvents, runCounts, sleep, tally, waitFor,
} from '../lib/harness.js';

interface Fault { kind: string; atMs: number; endMs: number; resumeMs?: number }

export const netcut: Scenario = {
  name: 'netcut',
  title: 'connections killed (CLIENT KILL) and Redis paused (CLIENT PAUSE)',
  timeoutMs: { quick: 80_000, full: 240_000 },
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const rounds = ctx.quick ? 1 : 4;
    const gapMs = ctx.quick ? 2_000 : 4_000;
    const pauseMs = 2_000;
    const server = await ctx.group.startRedis();
    // The harness's own control connection: CLIENT KILL skips the caller (SKIPME yes).
    const admin = new Redis(server.url, { maxRetriesPerRequest: null });
    admin.on('error', () => undefined);
    const producer = new SteadyProducer(server.url, { ratePerSec: ctx.quick ? 150 : 250, sleepMs: jitterSleep(20) });
    const failures: string[] = [];
    const faults: Fault[] = [];
    try {
      const workers = [1, 2].map((n) => ctx.group.startWorker({
        label: `worker-${n}`, redis: server.url, concurrency: 10, runLog: `${ctx.dir}/runs-${n}.log`, log: `${ctx.dir}/worker-${n}.log`,
      }));
      await Promise.all(workers.map((w) => w.ready()));
      ctx.say(`2 workers × 10, producer at ${ctx.quick ? 150 : 250} jobs/s; ${rounds} round(s) of: CLIENT KILL ×2, PAUSE ${pauseMs} ms WRITE, PAUSE ${pauseMs} ms ALL`);
      producer.start();
      let quietUntil = Date.now();
      for (let r = 0; r < rounds; r++) {
        for (const kind of ['CLIENT KILL TYPE normal', 'CLIENT KILL TYPE normal', `CLIENT PAUSE ${pauseMs} WRITE`, `CLIENT PAUSE ${pauseMs} ALL`]) {
          await sleep(quietUntil + gapMs - Date.now());
          const atMs = Date.now();
          let killed = 0;
          if (kind.startsWith('CLIENT KILL')) killed = Number(await admin.client('KILL', 'TYPE', 'normal'));
          else await admin.call('CLIENT', 'PAUSE', String(pauseMs), kind.endsWith('WRITE') ? 'WRITE' : 'ALL');
          const endMs = kind.startsWith('CLIENT KILL') ? atMs : atMs + pauseMs;
          faults.push({ kind: killed ? `${kind} (${killed} connections)` : kind, atMs, endMs });
          quietUntil = endMs;
        }
      }
      await sleep(quietUntil + gapMs - Date.now());
      await producer.stop();
      const acked = [...producer.acked.keys()];
      const allRan = await waitFor(() => tally(acked, runCounts(readRuns(ctx.dir))).lost.length === 0, ctx.quick ? 30_000 : 60_000, 250);
      await sleep(500);
      const leftInProgress = await inProgressNow(admin, 'chaos');
      // Jobs sitting in a live node's in-progress list that no runner holds: stranded, not lost
      // for good (that node gives them back when it stops), but stuck while it runs.
      const strandedJids = new Set<string>();
      for (const k of await admin.keys('inprogress:chaos:*')) {
        for (const raw of await admin.lrange(k, 0, -1)) {
          try { strandedJids.add((JSON.parse(raw) as { jid: string }).jid); } catch { /* not ours */ }
        }
      }
      const end = { queue: await admin.llen('queue:chaos'), inProgress: leftInProgress.total, retry: await admin.zcard('retry'), dead: await admin.zcard('dead') };
      const crashed = ctx.group.crashed();
      const alive = workers.filter((w) => w.alive).length;
      await ctx.group.stopWorkers();

      const runs = readRuns(ctx.dir);
      const t = tally(acked, runCounts(runs));
      for (const f of faults) {
        const after = runs.filter((x) => x.atMs >= f.endMs).map((x) => x.atMs);
        if (after.length > 0) f.resumeMs = Math.min(...after) - f.endMs;
        ctx.say(`${f.kind}: next job run ${fmtMs(f.resumeMs ?? NaN)} after the fault ended`);
      }
      const falseDead = falseDeaths(recoveryEvents(ctx.dir), new Map());
      const stranded = t.lost.filter((j) => strandedJids.has(j));
      const lostForGood = t.lost.filter((j) => !strandedJids.has(j));
      ctx.say(`acknowledged ${acked.length}: never ran ${t.lost.length} (${stranded.length} of them stranded in a live node's in-progress list), duplicated ${t.duplicated.length}; false deaths ${falseDead.length}; left in queue ${end.queue}, in progress ${end.inProgress}; crashed ${crashed.length}; producer errors ${producer.errors}`);
      if (stranded.length > 0) {
        failures.push(`${stranded.length} acknowledged jobs stuck in a live node's in-progress list (by node: ${JSON.stringify(leftInProgress.byNode)}): a fetch whose reply was lost; see test/chaos/repro/fetch-reply-lost.ts`);
      }
      if (lostForGood.length > 0 || (!allRan && stranded.length === 0)) failures.push(`${lostForGood.length} acknowledged jobs never ran and are nowhere in Redis (e.g. ${lostForGood.slice(0, 3).join(', ')})`);
      if (end.queue + end.inProgress + end.retry + end.dead > 0) failures.push(`left over: ${JSON.stringify(end)}`);
      if (crashed.length > 0 || alive < workers.length) failures.push(...crashed.map((w) => `crash: ${w.describeExit()}`), ...(crashed.length === 0 && alive < workers.length ? ['a worker exited'] : []));
      const resumes = faults.map((f) => f.resumeMs ?? NaN).filter(Number.isFinite);
      return {
        pass: failures.length === 0,
        failures,
        summary: `${faults.length} faults, ${acked.length} jobs: lost ${lostForGood.length}, stranded ${stranded.length}, dup ${t.duplicated.length}, resume max ${fmtMs(resumes.length ? Math.max(...resumes) : NaN)}`,
        figures: {
          faults, acked: acked.length, lost: lostForGood.length, stranded: stranded.length, duplicated: t.duplicated.length, falseDeaths: falseDead.length,
          end, strandedByNode: leftInProgress.byNode, producerErrors: producer.errors, crashed: crashed.length, workerLogProblems: logProblems(ctx.dir),
        },
      };
    } finally {
      await producer.close().catch(() => undefined);
      admin.disconnect();
    }
  },
};
