/**
 * Check 4, produce: for each push the peer's producer made, kiqgate's Client, given the same
 * class, args, queue and options for that peer, sends the same commands in the same order to
 * keys of the same names, with payloads of the same field set, types and formats.
 */
import { Client } from '../../client/index.js';
import { type JsonObject, type JobSpec, type Peer, asString, decodeJob, dialectFor } from '../../wire/index.js';
import { compareCommands } from '../commands-compare.js';
import { producerPeer, valueText } from '../fixture.js';
import { decodeAs, producerPushes } from '../extract.js';
import { type Check, Tally, notApplicable } from '../types.js';
import { type DecodedJob } from '../../wire/index.js';
import { decodeActiveJob, isActiveJobWrapper } from '../../wire/activejob/index.js';
import { firstDifference, stableActiveJobText } from './activejob-stable.js';

/**
 * ActiveJob: `enqueue({ activeJob })` with the class, the arguments as a handler receives them,
 * queue, priority and run time of a push `perform_later` made; undefined for a wrapper job that
 * is not a first push (retry_on's re-enqueue, a re-push: the lifecycle check judges those).
 */
function activeJobSpec(job: DecodedJob, at: number | undefined): Parameters<Client['enqueue']>[0] | undefined {
  const aj = decodeActiveJob(job);
  if (aj.envelope.payload_provider_job_id !== null || job.doc().has('retry_count')) return undefined;
  return {
    activeJob: aj.envelope.job_class, args: aj.arguments, queue: aj.envelope.queue_name ?? 'default', priority: aj.envelope.priority,
    ...(aj.envelope.locale !== null ? { locale: aj.envelope.locale } : {}), timezone: aj.envelope.timezone,
    ...(at !== undefined ? { at } : {}),
  };
}

/**
 * The spec a user would give kiqgate to make the same job as `doc` (keys in the peer's order):
 * the peer's dialect reads it (`Dialect.specFromJob`). `at` is the run time in epoch seconds,
 * when the push was scheduled; `repush`: the poller or the API pushing a job that already
 * exists (its generated fields are passed along instead of generated).
 */
export function specFromPayload(doc: JsonObject, peer: Peer, at?: number, repush = false): JobSpec {
  const spec = dialectFor(peer).specFromJob(doc, repush);
  if (at !== undefined) spec.at = at;
  return spec;
}

export const produceCheck: Check = async ({ fixture }, ctx) => {
  const peer = producerPeer(fixture);
  if (!peer) return notApplicable(`kiqgate does not speak ${fixture.system} ${fixture.version}`);
  const pushes = producerPushes(fixture);
  if (pushes.length === 0) return notApplicable('the peer enqueued nothing in this fixture');
  const t = new Tally();
  const seenJids = new Set<string>();
  for (const [i, push] of pushes.entries()) {
    const ns = `${ctx.namespace}:p${i}`;
    // A peer whose client prefixes its keys by default (Exq's `exq:`) has that prefix in the
    // fixture's keys; the client gets it under the check's namespace.
    const clientNs = dialectFor(peer).defaultNamespace !== undefined ? `${ns}:${(valueText(push.commands[0]!.argv[1]!).split(':')[0])}` : ns;
    const client = new Client({ redis: ctx.redisUrl, peer, namespace: clientNs, batchSize: push.jobs.length });
    try {
      let docs: JsonObject[];
      try {
        docs = push.jobs.map((j) => decodeAs(j.payload, peer).doc());
      } catch {
        continue; // the peer pushed something that is not a job (a bad-input scenario): nothing to replay
      }
      // Replay a scheduled push at the same distance in the future as the peer's (the capture is old).
      const pushedAt = push.commands[0]!.t;
      const first = decodeJob(push.jobs[0]!.payload, { maxBytes: 0 });
      if (push.jobs.length === 1 && isActiveJobWrapper(first.className)) {
        const score = push.jobs[0]!.score;
        const spec = activeJobSpec(first, score === undefined ? undefined : Date.now() / 1000 + (Number(score) - pushedAt));
        if (!spec) continue;
        await client.enqueue(spec);
        const expected = push.commands.map((c) => c.argv.map(valueText));
        const actual = await ctx.monitor.waitForCount(ns, expected.length);
        // ActiveJob's job_id and enqueued_at are the run's own (random, the clock): the peer's stand in for ours.
        const peerText = expected.at(-1)!.at(-1)!;
        const own = (re: RegExp) => re.exec(peerText)?.[0];
        const ourPush = actual.at(-1);
        if (ourPush) {
          for (const re of [/"job_id":"[0-9a-f-]{36}"/, /"enqueued_at":"[^"]*"/]) {
            const theirs = own(re);
            if (theirs) ourPush[ourPush.length - 1] = ourPush.at(-1)!.replace(re, theirs);
          }
        }
        const diffs = compareCommands(expected, actual);
        // Byte for byte, the run's own values (jids, times, job_id) aside.
        const theirs = stableActiveJobText(expected.at(-1)!.at(-1)!);
        const ours = stableActiveJobText(actual.at(-1)?.at(-1) ?? '');
        if (theirs !== ours) diffs.push(`payload ${firstDifference(theirs, ours)}`);
        t.check(diffs.length === 0, () => `push ${i + 1} (ActiveJob ${expected.map((c) => c[0]).join('+')}): ${diffs.join('; ')}`);
        continue;
      }
      const specs = docs.map((doc, k) => {
        const score = push.jobs[k]!.score;
        const jid = asString(doc.get('jid')) ?? '';
        // A job that already failed once (retry_count) or whose jid was pushed before is a re-push.
        const repush = seenJids.has(jid) || doc.has('retry_count');
        seenJids.add(jid);
        const spec = specFromPayload(doc, peer, score === undefined ? undefined : Date.now() / 1000 + (Number(score) - pushedAt), repush);
        // A job that names no queue (Resque's): the push's key does.
        if (spec.queue === undefined) spec.queue = /queue:([^:]+)$/.exec(push.jobs[k]!.queueKey)?.[1] ?? 'default';
        return spec;
      });
      if (specs.length === 1) await client.enqueue(specs[0]!);
      else await client.enqueueBulk(specs);
      const expected = push.commands.map((c) => c.argv.map(valueText));
      const actual = await ctx.monitor.waitForCount(ns, expected.length);
      const diffs = compareCommands(expected, actual);
      t.check(diffs.length === 0, () => `push ${i + 1} (${expected.map((c) => c[0]).join('+')}): ${diffs.join('; ')}`);
    } catch (err) {
      t.fail(`push ${i + 1}: kiqgate could not make the same push: ${(err as Error).message}`);
    } finally {
      await client.close();
    }
  }
  return t.result('the peer pushed no decodable job in this fixture');
};
