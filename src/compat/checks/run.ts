/**
 * Check 3, run: the jobs the fixture had queued (pushed to a queue, or left in a queue or an
 * in-progress list) are loaded into Redis exactly as the peer left them and run by a real
 * kiqgate Worker; each handler must see args deep-equal to the payload's own (exact big
 * integers; Verk's string args decoded).
 */
import { isDeepStrictEqual } from 'node:util';
import { type DecodedJob, type NativeJson, asString, dialectFor, parseJson, toNative } from '../../wire/index.js';
import { decodeOrUndefined, jobPayloads } from '../extract.js';
import { expectedPeer } from '../fixture.js';
import { resqueArgs } from '../../wire/dialects/resque.js';
import { type Check, Tally, notApplicable } from '../types.js';
import { queueOf, startCheckWorker, waitUntil } from './harness.js';

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
  const w = await startCheckWorker(ctx.redisUrl, ctx.namespace, jobs.map((j) => j.queue), jobs.map((j) => j.job.className), 'record', peer ? { peer } : {});
  const t = new Tally();
  try {
    await waitUntil(() => w.runs.length >= jobs.length);
    for (const j of jobs) {
      const run = w.runs.find((r) => r.raw.equals(j.job.raw));
      if (!run) {
        t.fail(`${j.where}: job ${j.job.jid ?? '?'} (${j.job.className}) never ran`);
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
