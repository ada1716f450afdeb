/**
 * Check 3, run: the jobs the fixture had queued (pushed to a queue, or left in a queue or an
 * in-progress list) are loaded into Redis exactly as the peer left them and run by a real
 * kiqgate Worker; each handler must see args deep-equal to the payload's own (exact big
 * integers; Verk's string args decoded).
 */
import { isDeepStrictEqual } from 'node:util';
import { type DecodedJob, type NativeJson, asString, dialectFor, parseJson, toNative } from '../../wire/index.js';
import { decodeOrUndefined, jobPayloads } from '../extract.js';
import { expectedPeer, type Fixture } from '../fixture.js';
import { resqueArgs } from '../../wire/dialects/resque.js';
import { type Check, Tally, notApplicable } from '../types.js';
import { handlerClass, queueOf, startCheckWorker, waitUntil } from './harness.js';
import { decodeActiveJob, decodeArguments, isActiveJobWrapper } from '../../wire/activejob/index.js';
import { type RubyDescription, compareWithRuby } from './activejob-observed.js';

/** ActiveJob: what the handler must see, and what Ruby's perform saw (job_observations), for one job. */
function activeJobExpectations(f: Fixture, job: DecodedJob, run: { args: unknown[]; activeJob?: { job_id: string; executions: number; provider_job_id: string | undefined } | undefined }, where: string): string[] {
  const aj = decodeActiveJob(job);
  const out: string[] = [];
  // The decoder's values, recomputed from the lossless document.
  const want = decodeArguments(aj.hash.get('arguments'), 'arguments');
  if (!isDeepStrictEqual(run.args, want)) out.push(`${where}: handler saw ${show(run.args)}, the ActiveJob arguments hold ${show(want)}`);
  const env = run.activeJob;
  if (!env || env.job_id !== aj.envelope.job_id || env.executions !== aj.envelope.payload_executions + 1 || env.provider_job_id !== job.jid) {
    out.push(`${where}: ctx.activeJob is ${show(env)}, expected job_id ${aj.envelope.job_id}, executions ${aj.envelope.payload_executions + 1}, provider_job_id ${job.jid}`);
  }
  // What Ruby's perform received for the same job, where the fixture recorded it.
  const seen = (f as { job_observations?: Array<{ job_id: string; provider_job_id: string; arguments: RubyDescription[] }> }).job_observations
    ?.find((o) => o.job_id === aj.envelope.job_id && o.provider_job_id === job.jid);
  if (seen) {
    if (seen.arguments.length !== run.args.length) out.push(`${where}: Ruby's perform got ${seen.arguments.length} arguments, the handler ${run.args.length}`);
    seen.arguments.forEach((d, i) => out.push(...compareWithRuby(run.args[i], d, `${where} arguments[${i}]`)));
  }
  return out;
}

/** The args a handler must see, computed independently of the engine from the lossless document. */
export function expectedArgs(job: DecodedJob): NativeJson[] {
  const a = job.doc().get('args');
  // Resque's perform(*args): missing → none, an object → its pairs, any other value → one argument.
  // (A dialect with its own reading of any payload: Resque's.)
  if (dialectFor(job.dialect).read) return resqueArgs(a).map(toNative);
  const s = asString(a);
  return (s !== undefined ? toNative(parseJson(s)) : toNative(a ?? null)) as NativeJson[];
}

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)).slice(0, 120);
}

export const runCheck: Check = async ({ fixture }, ctx) => {
  const peer = expectedPeer(fixture);
  const jobs: Array<{ job: DecodedJob; queue: string; where: string }> = [];
  for (const p of jobPayloads(fixture)) {
    if (!/(^|:)(queue:|inprogress:)/.test(p.key)) continue;
    const job = decodeOrUndefined(p.bytes, peer); // not a job: the lifecycle check covers what happens to it
    if (job) jobs.push({ job, queue: queueOf(job.queue, p.key), where: p.where });
  }
  if (jobs.length === 0) return notApplicable('no decodable job was queued in this fixture');
  for (const j of jobs) await ctx.redis.lpush(`${ctx.namespace}:queue:${j.queue}`, j.job.raw);
  // Standing in for the fixture's runtime (a mixed scenario's consumer): it decides the reading
  // (Resque's lenient one) and the list end jobs are taken from.
  const w = await startCheckWorker(ctx.redisUrl, ctx.namespace, jobs.map((j) => j.queue), jobs.map((j) => handlerClass(j.job)), 'record', peer ? { peer } : {});
  const t = new Tally();
  try {
    await waitUntil(() => w.runs.length >= jobs.length);
    for (const j of jobs) {
      const run = w.runs.find((r) => r.raw.equals(j.job.raw));
      if (!run) {
        t.fail(`${j.where}: job ${j.job.jid ?? '?'} (${j.job.className}) never ran`);
        continue;
      }
      if (isActiveJobWrapper(j.job.className)) {
        const diffs = activeJobExpectations(fixture, j.job, run, j.where);
        t.check(diffs.length === 0, () => diffs.join('; '));
        continue;
      }
      const want = expectedArgs(j.job);
      t.check(isDeepStrictEqual(run.args, want), () => `${j.where}: handler saw ${show(run.args)}, payload holds ${show(want)}`);
    }
  } finally {
    await w.stop();
  }
  return t.result('no decodable job was queued in this fixture');
};
