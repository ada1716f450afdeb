/**
 * BullMQ 6.7 in-process driver: `Queue.add` / `Queue.addBulk` and a `Worker` with a no-op
 * processor, default options except removeOnComplete/removeOnFail: true (kept jobs would make
 * Redis memory grow with every run and are not what a busy deployment keeps).
 * A job counts as done on the worker's "completed" event, i.e. after BullMQ moved it to completed.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { JOB_CLASS, QUEUE, type NodeDriver } from './types.js';

const connect = (url: string) => new Redis(url, { maxRetriesPerRequest: null });

export const driver: NodeDriver = {
  async openProducer(url) {
    const connection = connect(url);
    const queue = new Queue(QUEUE, {
      connection,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
    });
    await queue.waitUntilReady();
    return {
      async enqueueOne(args) {
        await queue.add(JOB_CLASS, { args });
      },
      async enqueueBulk(argsList) {
        await queue.addBulk(argsList.map((args) => ({ name: JOB_CLASS, data: { args } })));
      },
      async close() {
        await queue.close();
        connection.disconnect();
      },
    };
  },

  async prepareWorker(url, { concurrency, onStart, onDone }) {
    const connection = connect(url);
    const worker = new Worker(
      QUEUE,
      async (job) => {
        onStart((job.data as { args: unknown[] }).args);
      },
      { connection, concurrency, autorun: false },
    );
    worker.on('completed', onDone);
    worker.on('error', (err) => process.stderr.write(`bullmq worker error: ${String(err)}\n`));
    await worker.waitUntilReady();
    return {
      async start() {
        void worker.run(); // resolves only when the worker closes
      },
      async stop() {
        await worker.close(true);
        connection.disconnect();
      },
    };
  },
};
