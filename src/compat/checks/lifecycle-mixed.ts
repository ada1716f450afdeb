/**
 * The lifecycle step of a mixed scenario (src/compat/mixed.ts): each job the producer pushed is
 * failed by a kiqgate Worker standing in for the consumer (`peer` = the consumer's dialect), and
 * the entry must be the one the consumer writes for a foreign job (foreign-failure.ts): in the
 * consumer's destination, shaped as its own captured entry and the references say. A job is
 * never dropped, except where the consumer's own rule drops it (Sidekiq: `retry: false`).
 */
import type { WorkerOptions } from '../../engine/index.js';
import { scanKeys } from '../../support/connection.js';
import { JsonObject } from '../../wire/json.js';
import { expectedPeer, type Fixture } from '../fixture.js';
import { decodeOrUndefined, producerPushes } from '../extract.js';
import { CONSUMER_DESTINATIONS, foreignFailureDiffs, objectOf } from '../foreign-failure.js';
import type { CheckContext, Tally } from '../types.js';
import { queueOf, startCheckWorker, waitUntil } from './harness.js';

/** The Worker option that makes kiqgate stand in for the fixture's consumer. */
export function consumerOption(f: Fixture): Partial<WorkerOptions> {
  return f.producer ? { peer: expectedPeer(f) as WorkerOptions['peer'] } : {};
}

export async function mixedFailureStep(f: Fixture, ctx: CheckContext, t: Tally): Promise<void> {
  if (!f.producer) return;
  const consumer = f.system.toLowerCase();
  const destinations = CONSUMER_DESTINATIONS[consumer];
  const own = f.consumerFailure ? objectOf(f.consumerFailure.entry) : undefined;
  if (!destinations || !own) {
    t.fail(`no captured failure entry of ${f.system} ${f.version} to hold kiqgate's to (its fixtures show none)`);
    return;
  }
  // One job per shape (class and field set): a failure entry depends on the fields, not the values.
  const shapes = new Set<string>();
  const jobs = producerPushes(f).flatMap((p) => p.jobs).map((j) => ({ job: decodeOrUndefined(j.payload), key: j.queueKey }))
    .filter(({ job }) => {
      const shape = job && `${job.className} ${job.doc().keys().join(',')}`;
      if (!shape || shapes.has(shape)) return false;
      shapes.add(shape);
      return true;
    });
  for (const [i, { job, key }] of jobs.entries()) {
    if (!job) continue;
    const doc = job.doc();
    const ns = `${ctx.namespace}:m${i}`;
    const queue = queueOf(job.queue, key);
    const label = `${f.producer.system} ${f.producer.version} job ${job.className} ${job.jid ?? ''} failed by kiqgate as ${f.system} ${f.version}`;
    await ctx.redis.lpush(`${ns}:queue:${queue}`, job.raw);
    const w = await startCheckWorker(ctx.redisUrl, ns, [queue], [job.className], 'fail', consumerOption(f));
    try {
      const read = async () => {
        for (const d of destinations) {
          const members = d === 'failed' ? await ctx.redis.lrange(`${ns}:failed`, 0, -1) : await ctx.redis.zrange(`${ns}:${d}`, 0, -1);
          if (members.length > 0) return { d, member: members[0]! };
        }
        return undefined;
      };
      await waitUntil(async () => (await read()) !== undefined || w.runs.length > 0 && (await ctx.redis.llen(`${ns}:queue:${queue}`)) === 0 && (await inProgressEmpty(ctx, ns)));
      const found = await read();
      if (!found) {
        const dropAllowed = consumer === 'sidekiq' && doc.get('retry') === false;
        t.check(dropAllowed && w.runs.length > 0, () => `${label}: no entry in ${destinations.join('/')}; the job was dropped${w.runs.length === 0 ? ' (it never ran)' : ''}`);
        continue;
      }
      const actual = objectOf(found.member);
      const diffs = actual instanceof JsonObject ? foreignFailureDiffs({ consumer, job: doc, own, actual, queue }) : [`the ${found.d} entry is not a JSON object`];
      t.check(diffs.length === 0, () => `${label} (${found.d}): ${diffs.join('; ')}`);
    } finally {
      await w.stop();
    }
  }
}

async function inProgressEmpty(ctx: CheckContext, ns: string): Promise<boolean> {
  const keys = await scanKeys(ctx.redis, `${ns}:inprogress:*`);
  for (const k of keys) if ((await ctx.redis.llen(k)) > 0) return false;
  return true;
}
