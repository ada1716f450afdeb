/**
 * Scenario "clockskew": scheduled jobs (`Client.enqueue({ in: 2 })`) consumed by a worker
 * process whose wall clock is 30 s ahead, then by one 30 s behind (skew-clock.ts shifts its
 * Date and performance.timeOrigin).
 *
 * The scheduler takes "now" from Redis TIME, so each job must run about when it is due: not
 * early (a clock ahead would promote it at once) and not ~30 s late (a clock behind). Lateness
 * is measured in real time: the run's real clock (the worker keeps one) minus the job's
 * schedule score as Redis holds it. Expected: up to about the poll interval (500 ms, jittered).
 */
import { Redis } from 'ioredis';
import { Client } from '../../../src/client/index.js';
import {
  type Scenario, type ScenarioContext, type ScenarioResult, fmtMs, quantile, readRuns, sleep, waitFor,
} from '../lib/harness.js';

interface SkewFigures { skewMs: number; measuredSkewMs: number; jobs: number; ran: number; early: number; latenessMs: { p50: number; max: number; min: number } }

export const clockskew: Scenario = {
  name: 'clockskew',
  title: 'scheduled jobs with the worker clock ±30 s off',
  timeoutMs: { quick: 60_000, full: 120_000 },
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const jobs = ctx.quick ? 20 : 200;
    const spacingMs = ctx.quick ? 100 : 50;
    const pollMs = 500;
    const failures: string[] = [];
    const results: SkewFigures[] = [];
    for (const skewMs of [30_000, -30_000]) {
      const server = await ctx.group.startRedis();
      const admin = new Redis(server.url, { maxRetriesPerRequest: null });
      const client = new Client({ redis: admin });
      const tag = skewMs > 0 ? 'ahead' : 'behind';
      try {
        const worker = ctx.group.startWorker({
          label: `worker-${tag}`, redis: server.url, concurrency: 10, pollIntervalMs: pollMs, skewMs,
          runLog: `${ctx.dir}/runs-${tag}.log`, log: `${ctx.dir}/worker-${tag}.log`,
        });
        await worker.ready();
        const measuredSkewMs = worker.clock ? worker.clock.now - worker.clock.realNow : NaN;
        const due = new Map<string, number>();
        let earlyUnscored = 0;
        for (let i = 0; i < jobs; i++) {
          const jid = await client.enqueue({ class: 'ChaosJob', args: [0], queue: 'chaos', in: 2 });
          // The newest job has the highest score; read it back at once (it is due in 2 s).
          const [member, score] = await admin.zrange('schedule', -1, -1, 'WITHSCORES');
          if (member && (JSON.parse(member) as { jid: string }).jid === jid) due.set(jid, Number(score) * 1000);
          else earlyUnscored++; // already promoted: a clock-ahead scheduler ran it early
          await sleep(spacingMs);
        }
        const runsOf = () => readRuns(ctx.dir).filter((r) => due.has(r.jid));
        await waitFor(() => runsOf().length >= due.size, 2_000 + 10_000, 100);
        const runs = runsOf();
        const lateness = runs.map((r) => r.atMs - due.get(r.jid)!);
        const early = lateness.filter((l) => l < -20).length + earlyUnscored;
        const f: SkewFigures = {
          skewMs, measuredSkewMs, jobs, ran: runs.length + earlyUnscored, early,
          latenessMs: { p50: quantile(lateness, 0.5), max: lateness.length ? Math.max(...lateness) : NaN, min: lateness.length ? Math.min(...lateness) : NaN },
        };
        results.push(f);
        ctx.say(`worker clock ${tag} by ${Math.abs(Math.round(measuredSkewMs / 1000))} s: ${f.ran}/${jobs} ran, ${early} early; lateness vs the due time p50 ${fmtMs(f.latenessMs.p50)}, max ${fmtMs(f.latenessMs.max)} (poll ${pollMs} ms ±50%)`);
        if (Math.abs(measuredSkewMs - skewMs) > 2_000) failures.push(`${tag}: the worker's clock is off by ${measuredSkewMs} ms, not ${skewMs} (skew preload not applied)`);
        if (f.ran < jobs) failures.push(`${tag}: ${jobs - f.ran} scheduled jobs did not run within 10 s of their time`);
        if (early > 0) failures.push(`${tag}: ${early} jobs ran before they were due`);
        if (f.latenessMs.max > 5_000) failures.push(`${tag}: max lateness ${f.latenessMs.max} ms (the worker's clock, not Redis's, decided)`);
        if (ctx.group.crashed().length > 0) failures.push(...ctx.group.crashed().map((w) => `crash: ${w.describeExit()}`));
        await worker.stop();
      } finally {
        admin.disconnect();
        await server.stop();
      }
    }
    const all = results.map((r) => `${r.skewMs > 0 ? '+' : ''}${r.skewMs / 1000} s: p50 ${fmtMs(r.latenessMs.p50)} max ${fmtMs(r.latenessMs.max)}`);
    return {
      pass: failures.length === 0,
      failures,
      summary: `lateness ${all.join('; ')}; early ${results.reduce((s, r) => s + r.early, 0)}`,
      figures: { pollIntervalMs: pollMs, skews: results },
    };
  },
};
