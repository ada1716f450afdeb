/**
 * Check 5, lifecycle: where the fixture shows a job failing, retrying, dying, being promoted
 * from schedule/retry, requeued at shutdown or recovered from an in-progress list, kiqgate does
 * the same thing to the same job (a real Worker on Redis) and must write the same keys with the
 * same field set, types and formats. Entries the peer wrote (retry, schedule) are promoted and
 * run by kiqgate. Each step works in a sub-namespace of its own.
 */
import { WireError, decodeJob, type DecodedJob, dialectFor, undecodableOriginal } from '../../wire/index.js';
import { comparePayloadShape, scoreForm } from '../payload-shape.js';
import { type Fixture, expectedPeer, valueBytes } from '../fixture.js';
import { resqueLifecycle } from './lifecycle-resque.js';
import { decodeOrUndefined, type Written, writes } from '../extract.js';
import { type Check, type CheckContext, Tally } from '../types.js';
import { handlerClass, queueOf, startCheckWorker, waitUntil } from './harness.js';
import { retryOnStep } from './lifecycle-activejob.js';
import { heartbeatStep, recoveryStep, shutdownStep } from './lifecycle-process.js';
import { mixedFailureStep } from './lifecycle-mixed.js';

/** Values that are the run's own (our error is not the peer's error): compared by type only. */
export const RUN_OWN = new Set(['error_class', 'error_message', 'error_backtrace']);

const setName = (key: string) => /(?:^|:)(retry|dead|schedule)$/.exec(key)?.[1];

/** The peer's retry/dead entries, each with the job as it was queued just before it failed. */
function failures(f: Fixture): Array<{ entry: Written; kind: 'retry' | 'dead'; original: DecodedJob }> {
  const ws = writes(f);
  const out: Array<{ entry: Written; kind: 'retry' | 'dead'; original: DecodedJob }> = [];
  for (const [i, w] of ws.entries()) {
    const kind = setName(w.key);
    if (kind !== 'retry' && kind !== 'dead') continue;
    const entry = decodeOrUndefined(w.bytes);
    if (!entry?.jid) continue;
    for (let j = i - 1; j >= 0; j--) {
      const q = ws[j]!;
      if (!/(^|:)queue:/.test(q.key) || q.bytes.equals(w.bytes)) continue;
      const orig = decodeOrUndefined(q.bytes);
      if (orig?.jid === entry.jid) {
        out.push({ entry: w, kind, original: orig });
        break;
      }
    }
  }
  return out;
}

/** Reproduces each failure with a failing handler; the entry must match the peer's. */
async function failureStep(f: Fixture, ctx: CheckContext, t: Tally): Promise<void> {
  for (const [i, { entry, kind, original }] of failures(f).entries()) {
    const ns = `${ctx.namespace}:f${i}`;
    const queue = queueOf(original.queue, 'queue:default');
    await ctx.redis.lpush(`${ns}:queue:${queue}`, original.raw);
    // Standing in for the fixture's runtime: its rules decide the entry (kiqgate writes what the
    // consumer would, whoever produced the job).
    const peer = expectedPeer(f);
    const w = await startCheckWorker(ctx.redisUrl, ns, [queue], [handlerClass(original)], 'fail', peer ? { peer } : {});
    try {
      const where = async () => ({
        retry: await ctx.redis.zrange(`${ns}:retry`, 0, -1, 'WITHSCORES'),
        dead: await ctx.redis.zrange(`${ns}:dead`, 0, -1, 'WITHSCORES'),
      });
      await waitUntil(async () => { const s = await where(); return s.retry.length + s.dead.length > 0; });
      const s = await where();
      const ours = s.retry.length > 0 ? { kind: 'retry', member: s.retry[0]!, score: s.retry[1]! } : s.dead.length > 0 ? { kind: 'dead', member: s.dead[0]!, score: s.dead[1]! } : undefined;
      const label = `failure of ${original.className} ${original.jid} (peer wrote ${kind})`;
      if (!ours) {
        t.fail(`${label}: kiqgate wrote no retry or dead entry`);
        continue;
      }
      const diffs = comparePayloadShape(entry.bytes.toString('utf8'), ours.member, { typeOnly: RUN_OWN, ordered: false });
      if (ours.kind !== kind) diffs.unshift(`kiqgate wrote a ${ours.kind} entry`);
      if (entry.score !== undefined && scoreForm(entry.score) !== scoreForm(ours.score)) diffs.push(`score unit differs: peer ${entry.score}, kiqgate ${ours.score}`);
      t.check(diffs.length === 0, () => `${label}: ${diffs.join('; ')}`);
    } finally {
      await w.stop();
    }
  }
}

/**
 * Payloads that are not jobs: kiqgate must keep their exact bytes in dead (Sidekiq does; Verk
 * drops them), inside the Kiqgate::UndecodablePayload entry that peers' tools can read: its
 * raw_base64, decoded, must equal the payload byte for byte.
 */
async function undecodableStep(f: Fixture, ctx: CheckContext, t: Tally): Promise<void> {
  const bad = writes(f).filter((w) => /(^|:)queue:/.test(w.key) && !decodeOrUndefined(w.bytes));
  for (const [i, w] of bad.entries()) {
    const ns = `${ctx.namespace}:u${i}`;
    await ctx.redis.lpush(`${ns}:queue:default`, w.bytes);
    const sw = await startCheckWorker(ctx.redisUrl, ns, ['default'], [], 'record');
    try {
      const kept = await waitUntil(async () => (await ctx.redis.zrangeBuffer(`${ns}:dead`, 0, -1)).some((m) => undecodableOriginal(m)?.equals(w.bytes)));
      const reason = (() => { try { decodeJob(w.bytes, { maxBytes: 0 }); return ''; } catch (e) { return e instanceof WireError ? e.code : 'error'; } })();
      t.check(kept, () => `undecodable payload (${reason}) ${JSON.stringify(w.bytes.toString('latin1').slice(0, 40))}: its exact bytes are not in dead`);
    } finally {
      await sw.stop();
    }
  }
}

/**
 * Every schedule/retry member the peer wrote is promoted by kiqgate's scheduler and run; when
 * the fixture shows the peer's promoted form (the same jid pushed to a queue later), kiqgate's
 * promoted bytes must have the same field set, types and formats.
 */
async function promotionStep(f: Fixture, ctx: CheckContext, t: Tally): Promise<void> {
  const ws = writes(f);
  const members: Written[] = ws.filter((w) => { const s = setName(w.key); return s === 'schedule' || s === 'retry'; });
  for (const [key, dump] of Object.entries(f.state)) {
    const s = setName(key);
    if ((s !== 'schedule' && s !== 'retry') || dump.type !== 'zset') continue;
    for (const [m] of dump.value as Array<[string, number]>) {
      const b = valueBytes(m);
      if (!members.some((x) => x.bytes.equals(b))) members.push({ key, bytes: b });
    }
  }
  for (const [i, m] of members.entries()) {
    const job = decodeOrUndefined(m.bytes);
    if (!job) continue;
    const ns = `${ctx.namespace}:s${i}`;
    const set = setName(m.key)!;
    const queue = queueOf(job.queue, 'queue:default');
    const [sec] = await ctx.redis.time();
    await ctx.redis.zadd(`${ns}:${set}`, Number(sec) - 1, m.bytes);
    const w = await startCheckWorker(ctx.redisUrl, ns, [queue], [handlerClass(job)], 'record');
    try {
      await waitUntil(() => w.runs.length > 0);
      const run = w.runs[0];
      const label = `${set} member ${job.className} ${job.jid}`;
      if (!run) {
        t.fail(`${label}: kiqgate did not promote and run it`);
        continue;
      }
      const later = ws.find((x) => (m.t === undefined || (x.t ?? 0) >= m.t) && /(^|:)queue:/.test(x.key) && !x.bytes.equals(m.bytes) && decodeOrUndefined(x.bytes)?.jid === job.jid);
      // Sidekiq's API (retry, retry_all) decrements retry_count before re-pushing ("manual retries
      // do not count"); its poller does not. kiqgate's scheduler is the poller, so after an API
      // retry the count is compared by type only.
      const viaApi = later !== undefined && viaAdminApi(f, set, m.t, later.t);
      const typeOnly = viaApi ? new Set([...RUN_OWN, 'retry_count']) : RUN_OWN;
      const diffs = later ? comparePayloadShape(later.bytes.toString('utf8'), run.raw.toString('utf8'), { typeOnly, ordered: false }) : [];
      t.check(diffs.length === 0, () => `${label}: promoted payload differs from the peer's: ${diffs.join('; ')}`);
    } finally {
      await w.stop();
    }
  }
}

/** True when the peer took the member out of `set` with its admin API (not the Lua poller) between t0 and t1. */
function viaAdminApi(f: Fixture, set: string, t0: number | undefined, t1: number | undefined): boolean {
  return f.commands.some((c) => {
    const name = String(c.argv[0]).toLowerCase();
    return (t0 === undefined || c.t >= t0) && (t1 === undefined || c.t <= t1)
      && ['zremrangebyscore', 'zpopmin', 'zrem'].includes(name) && String(c.argv[1]).endsWith(set);
  });
}

export const lifecycleCheck: Check = async ({ fixture }, ctx) => {
  const t = new Tally();
  const peer = expectedPeer(fixture);
  if (peer && dialectFor(peer).processRegistry.kind === 'resque-workers') {
    // Resque's failed list and worker registry (no retry, dead or schedule sets to replay).
    await resqueLifecycle(fixture, ctx, t);
    await mixedFailureStep(fixture, ctx, t);
    return t.result('the fixture shows no failure, unreadable entry or worker registration');
  }
  await failureStep(fixture, ctx, t);
  await undecodableStep(fixture, ctx, t);
  await promotionStep(fixture, ctx, t);
  await shutdownStep(fixture, ctx, t);
  await recoveryStep(fixture, ctx, t);
  await heartbeatStep(fixture, ctx, t);
  await mixedFailureStep(fixture, ctx, t);
  await retryOnStep(fixture, ctx, t); // ActiveJob's retry_on re-enqueues
  return t.result('the fixture shows no failure, retry, death, schedule, requeue, recovery or process heartbeat');
};
