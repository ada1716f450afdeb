/**
 * Lifecycle step for ActiveJob's retry_on: where the fixture shows Rails rescuing an error and
 * pushing the job again (a `schedule` member whose ActiveJob hash names the failed run's jid as
 * provider_job_id), kiqgate runs the original job with a handler declaring the same retry_on
 * and failing the same way; its re-enqueue must be the same bytes (run-own values aside), with
 * the original gone from in-progress and the run counted as processed, not failed.
 */
import { decodeActiveJob, isActiveJobWrapper } from '../../wire/activejob/index.js';
import { type Fixture } from '../fixture.js';
import { decodeOrUndefined, writes } from '../extract.js';
import { type CheckContext, Tally } from '../types.js';
import { Worker } from '../../engine/index.js';
import { pino } from 'pino';
import { queueOf, waitUntil } from './harness.js';
import { firstDifference, stableActiveJobText } from './activejob-stable.js';

export async function retryOnStep(f: Fixture, ctx: CheckContext, t: Tally): Promise<void> {
  const ws = writes(f);
  let n = 0;
  for (const w of ws) {
    if (!/(^|:)schedule$/.test(w.key)) continue;
    const again = decodeOrUndefined(w.bytes);
    if (!again || !isActiveJobWrapper(again.className)) continue;
    const aj = decodeActiveJob(again);
    const prevJid = aj.envelope.payload_provider_job_id;
    const counters = Object.entries(aj.envelope.exception_executions ?? {});
    if (!prevJid || counters.length !== 1) continue;
    const original = ws.map((x) => decodeOrUndefined(x.bytes)).find((j) => j?.jid === prevJid && /"provider_job_id"/.test(j.text));
    if (!original) continue;
    const [key, counter] = counters[0]!;
    const errors = key.replace(/^\[|\]$/g, '').split(', ');
    const wait = Math.max(0, Math.round(Number(w.score) - (w.t ?? Number(w.score))));
    const ns = `${ctx.namespace}:aj${n++}`;
    const queue = queueOf(original.queue, 'queue:default');
    await ctx.redis.lpush(`${ns}:queue:${queue}`, original.raw);
    const worker = new Worker({
      redis: ctx.redisUrl, namespace: ns, queues: { [queue]: 1 }, sidekiqHeartbeat: false, logger: pino({ level: 'silent' }),
      pollIntervalMs: 60_000, shutdownTimeoutMs: 2000, blockTimeoutSeconds: 1,
      handlers: {
        [aj.envelope.job_class]: {
          handler: () => { const e = new Error('compat failure on purpose'); e.name = errors[0]!; throw e; },
          // One attempt more than the counter reached, so this run re-enqueues.
          retryOn: [{ errors, wait, attempts: counter + 1 }],
        },
      },
    });
    const label = `retry_on re-enqueue of ${aj.envelope.job_class} ${prevJid}`;
    try {
      await worker.start();
      await waitUntil(async () => (await ctx.redis.zcard(`${ns}:schedule`)) > 0);
      const [member, score] = await ctx.redis.zrange(`${ns}:schedule`, 0, -1, 'WITHSCORES');
      if (!member) {
        t.fail(`${label}: kiqgate pushed nothing to schedule`);
        continue;
      }
      const peer = stableActiveJobText(w.bytes.toString('utf8'));
      const ours = stableActiveJobText(member);
      t.check(peer === ours, () => `${label}: differs from Rails' ${firstDifference(peer, ours)}`);
      const ourAj = decodeActiveJob(decodeOrUndefined(Buffer.from(member))!);
      t.check(ourAj.envelope.payload_provider_job_id === original.jid, () => `${label}: provider_job_id ${ourAj.envelope.payload_provider_job_id}, expected the failed run's jid ${original.jid}`);
      const [sec] = await ctx.redis.time();
      t.check(Math.abs(Number(score) - Number(sec) - wait) <= 2, () => `${label}: scheduled ${Number(score) - Number(sec)} s ahead, Rails waited ${wait} s`);
      await waitUntil(async () => (await ctx.redis.get(`${ns}:stat:processed`)) === '1');
      const left = await ctx.redis.keys(`${ns}:inprogress:*`);
      const lens = await Promise.all(left.map((k) => ctx.redis.llen(k)));
      const failed = await ctx.redis.get(`${ns}:stat:failed`);
      t.check(lens.every((l) => l === 0) && failed === null, () => `${label}: in-progress left ${lens.join(',')}, stat:failed ${failed} (Sidekiq counts the run as processed)`);
    } finally {
      await worker.stop();
    }
  }
}
