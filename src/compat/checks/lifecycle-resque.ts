/**
 * Check 5, lifecycle, for Resque fixtures: what a Resque worker did in the fixture, a kiqgate
 * Worker with peer resque does to the same bytes, and must write the same keys in the same forms.
 *
 * - failure: each job failure the fixture shows in `failed` (not Resque's DirtyExit records of a
 *   killed worker, which kiqgate never writes: it gives the job back instead) is reproduced
 *   with a failing handler; kiqgate's entry must have the same keys in the same order, the same
 *   payload, queue and value types, and Resque's `failed_at` form;
 * - undecodable: each queued entry Resque cannot run (not JSON, `null`, not an object, no class)
 *   must end in `failed` with its exact bytes (Resque's worker exits or drops it);
 * - registry and shutdown: where the fixture shows a worker registering, kiqgate registers the
 *   same keys in the same forms, shows the job the fixture ran in `worker:<id>` as Resque does,
 *   and, stopped with that job still running, unregisters the same keys and gives the exact
 *   bytes back to the head of the queue with no failure entry (Resque's TERM records a
 *   DirtyExit and drops the job; kiqgate keeps it).
 */
import { parseJson, stringifyJson, JsonObject } from '../../wire/index.js';
import { resqueUndecodableOriginal } from '../../wire/dialects/resque.js';
import { comparePayloadShape } from '../payload-shape.js';
import { type Fixture, expectedPeer, valueText } from '../fixture.js';
import { decodeOrUndefined, writes } from '../extract.js';
import type { CheckContext, Tally } from '../types.js';
import { startCheckWorker, waitUntil } from './harness.js';

const RUN_OWN = new Set(['failed_at', 'exception', 'error', 'backtrace', 'worker']);
const FAILED_AT = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} \S+$/;
const KILLED = /^Resque::(DirtyExit|PruneDeadWorkerDirtyExit)$/;

const cmds = (f: Fixture) => f.commands.map((c) => c.argv.map(valueText));

async function failureStep(f: Fixture, ctx: CheckContext, t: Tally): Promise<void> {
  const entries = cmds(f).filter((a) => a[0]!.toLowerCase() === 'rpush' && /(^|:)failed$/.test(a[1]!)).map((a) => a[2]!);
  for (const [i, theirs] of entries.entries()) {
    const doc = parseJson(theirs);
    if (!(doc instanceof JsonObject) || KILLED.test(String(doc.get('exception')))) continue;
    const payload = Buffer.from(stringifyJson(doc.get('payload') ?? null));
    const job = decodeOrUndefined(payload, expectedPeer(f));
    if (!job) continue; // not a job Resque could run: the undecodable step covers its bytes
    const ns = `${ctx.namespace}:f${i}`;
    const queue = String(doc.get('queue') ?? 'default');
    await ctx.redis.rpush(`${ns}:queue:${queue}`, payload);
    const w = await startCheckWorker(ctx.redisUrl, ns, [queue], [job.className], 'fail', { peer: expectedPeer(f)! });
    try {
      await waitUntil(async () => (await ctx.redis.llen(`${ns}:failed`)) > 0);
      const [ours] = await ctx.redis.lrange(`${ns}:failed`, 0, 0);
      const label = `failure of ${job.className} (${String(doc.get('exception'))})`;
      if (!ours) {
        t.fail(`${label}: kiqgate wrote no entry to failed`);
        continue;
      }
      const diffs = comparePayloadShape(theirs, ours, { typeOnly: RUN_OWN });
      const failedAt = (JSON.parse(ours) as { failed_at?: unknown }).failed_at;
      if (typeof failedAt !== 'string' || !FAILED_AT.test(failedAt)) diffs.push(`failed_at ${JSON.stringify(failedAt)} is not strftime("%Y/%m/%d %H:%M:%S %Z")`);
      if (!ours.includes(`"payload":${payload.toString()},`)) diffs.push('payload is not the queued bytes');
      t.check(diffs.length === 0, () => `${label}: ${diffs.join('; ')}`);
    } finally {
      await w.stop();
    }
  }
}

async function undecodableStep(f: Fixture, ctx: CheckContext, t: Tally): Promise<void> {
  const bad = writes(f).filter((w) => /(^|:)queue:/.test(w.key) && !decodeOrUndefined(w.bytes, expectedPeer(f)));
  for (const [i, w] of bad.entries()) {
    const ns = `${ctx.namespace}:u${i}`;
    await ctx.redis.rpush(`${ns}:queue:default`, w.bytes);
    const sw = await startCheckWorker(ctx.redisUrl, ns, ['default'], [], 'record', { peer: expectedPeer(f)! });
    try {
      const kept = await waitUntil(async () => (await ctx.redis.lrangeBuffer(`${ns}:failed`, 0, -1)).some((e) => resqueUndecodableOriginal(e)?.equals(w.bytes)));
      t.check(kept, () => `unreadable entry ${JSON.stringify(w.bytes.toString('latin1').slice(0, 40))}: its exact bytes are not in failed`);
    } finally {
      await sw.stop();
    }
  }
}

/** The forms of Resque's registry values, by key suffix. */
const FORMS: Array<[RegExp, RegExp]> = [
  [/:started$/, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}$/],
  [/workers:heartbeat$/, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/],
];

async function registryStep(f: Fixture, ctx: CheckContext, t: Tally): Promise<void> {
  const c = cmds(f);
  const reg = c.find((a) => a[0] === 'sadd' && /(^|:)workers$/.test(a[1]!));
  if (!reg) return;
  const theirId = reg[2]!;
  // The first job the fixture's worker announced in worker:<id> that Resque could run.
  const runningJobs = c.filter((a) => a[0] === 'set' && a[1]!.endsWith(`worker:${theirId}`)).map((a) => {
    const v = parseJson(a[2]!) as JsonObject;
    const bytes = Buffer.from(stringifyJson(v.get('payload') ?? null));
    return { value: a[2]!, queue: String(v.get('queue') ?? 'default'), payload: bytes, job: decodeOrUndefined(bytes, expectedPeer(f)) };
  });
  const run = runningJobs.find((r) => r.job !== undefined);
  const ns = `${ctx.namespace}:r`;
  const queue = run?.queue ?? 'default';
  const w = await startCheckWorker(ctx.redisUrl, ns, [queue], run ? [run.job!.className] : [], 'hang', { peer: expectedPeer(f)!, shutdownTimeoutMs: 300 });
  const k = (s: string) => `${ns}:${s}`;
  let stopped = false;
  try {
    const [id] = await ctx.redis.smembers(k('workers'));
    t.check(id !== undefined && /^[^:]+:\d+:/.test(id) && id.endsWith(`:${queue}`) && id.split(':').length === 3, () => `workers holds ${JSON.stringify(id)}, not one <host>:<pid>:<queues> id`);
    if (!id) return;
    const started = await ctx.redis.get(k(`worker:${id}:started`));
    const beat = await ctx.redis.hget(k('workers:heartbeat'), id);
    t.check(FORMS[0]![1].test(started ?? '') && FORMS[1]![1].test(beat ?? ''), () => `registry forms: started ${JSON.stringify(started)}, heartbeat ${JSON.stringify(beat)}`);
    if (run) {
      const { payload, job } = run;
      await ctx.redis.rpush(k(`queue:${queue}`), payload);
      const ok = await waitUntil(async () => (await ctx.redis.get(k(`worker:${id}`))) !== null);
      const ours = await ctx.redis.get(k(`worker:${id}`));
      const diffs = ok && ours ? comparePayloadShape(run.value, ours, { typeOnly: new Set(['run_at']) }) : ['worker:<id> was never set while the job ran'];
      if (ours && !/"run_at":"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"/.test(ours)) diffs.push('run_at is not Time#utc.iso8601');
      t.check(diffs.length === 0, () => `worker:<id> while ${job!.className} runs: ${diffs.join('; ')}`);
    }
    await w.stop();
    stopped = true;
    const left = await ctx.redis.exists(k(`worker:${id}`), k(`worker:${id}:started`), k(`stat:processed:${id}`), k(`stat:failed:${id}`));
    const members = await ctx.redis.sismember(k('workers'), id);
    const field = await ctx.redis.hexists(k('workers:heartbeat'), id);
    // Resque's unregister (data_store.rb) removes all of them; a crashed Resque (malformed-job-shapes) leaves them.
    t.check(left + members + field === 0, () => `after stop: ${left} registry keys, workers member ${members}, heartbeat field ${field} left (Resque's unregister removes all)`);
    if (run) {
      const payload = run.payload;
      const back = await ctx.redis.lrangeBuffer(k(`queue:${queue}`), 0, -1);
      const failed = await ctx.redis.llen(k('failed'));
      t.check(back.length === 1 && back[0]!.equals(payload) && failed === 0, () => `the job running at stop: queue holds ${back.length} (same bytes: ${back.some((b) => b.equals(payload))}), failed holds ${failed}`);
    }
  } finally {
    if (!stopped) await w.stop();
  }
}

/** The Resque lifecycle steps (see the file comment). */
export async function resqueLifecycle(f: Fixture, ctx: CheckContext, t: Tally): Promise<void> {
  await failureStep(f, ctx, t);
  await undecodableStep(f, ctx, t);
  await registryStep(f, ctx, t);
}
