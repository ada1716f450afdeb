/**
 * The "ideal client" baseline: a bare ioredis consumer, the practical limit of one Node process
 * on this machine. Per tick it sends, in one pipeline, the acks (LREM) of the jobs just
 * finished and one LMOVE queue→inprogress per free slot, so each job is fetched and acked
 * reliably but with no retries, stats, heartbeats or scheduling. When the queue is empty it
 * blocks on BLMOVE. Payloads are Sidekiq JSON, pushed with LPUSH (bulk: one LPUSH per batch).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { JOB_CLASS, QUEUE, type NodeDriver } from './types.js';

const queueKey = `queue:${QUEUE}`;
// A unique 24-hex-digit jid at next to no cost (a random process prefix and a counter), so the
// baseline spends nothing a producer could avoid: no random draw per job.
const jidPrefix = randomBytes(8).toString('hex');
let jidSeq = 0;
const payload = (args: unknown[]) => {
  const now = Date.now() / 1000;
  const jid = jidPrefix + (jidSeq++ & 0xffffffff).toString(16).padStart(8, '0');
  return JSON.stringify({ class: JOB_CLASS, args, queue: QUEUE, jid, created_at: now, enqueued_at: now, retry: true });
};

export const driver: NodeDriver = {
  async openProducer(url) {
    const redis = new Redis(url);
    await redis.sadd('queues', QUEUE);
    return {
      async enqueueOne(args) {
        await redis.lpush(queueKey, payload(args));
      },
      async enqueueBulk(argsList) {
        await redis.lpush(queueKey, ...argsList.map(payload));
      },
      async close() {
        redis.disconnect();
      },
    };
  },

  async prepareWorker(url, { concurrency, onStart, onDone }) {
    const redis = new Redis(url);
    const blocking = new Redis(url);
    const inProgress = `inprogress:${QUEUE}:bare-${process.pid}`;
    await Promise.all([redis.ping(), blocking.ping()]);
    let running = true;
    let done: Promise<void> = Promise.resolve();
    const loop = async () => {
      let acks: string[] = []; // finished jobs whose LREM goes out with the next fetch
      while (running) {
        const pipe = redis.pipeline();
        for (const raw of acks) pipe.lrem(inProgress, 1, raw);
        for (let i = 0; i < concurrency; i++) pipe.lmove(queueKey, inProgress, 'RIGHT', 'LEFT');
        const replies = (await pipe.exec()) ?? [];
        for (let i = 0; i < acks.length; i++) onDone(); // done = its ack is applied
        let jobs = replies.slice(acks.length).map(([, v]) => v as string | null).filter((v): v is string => v !== null);
        acks = [];
        if (jobs.length === 0) {
          const raw = await blocking.blmove(queueKey, inProgress, 'RIGHT', 'LEFT', 1);
          if (raw === null) continue;
          jobs = [raw];
        }
        await Promise.all(jobs.map(async (raw) => {
          onStart((JSON.parse(raw) as { args: unknown[] }).args);
        }));
        acks = jobs;
      }
    };
    return {
      async start() {
        done = loop();
      },
      async stop() {
        running = false;
        blocking.disconnect();
        await Promise.race([done, new Promise((r) => setTimeout(r, 500))]);
        redis.disconnect();
      },
    };
  },
};
