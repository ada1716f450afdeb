/**
 * kiqgate in-process driver, written against the public API users call: `Client` from
 * src/client and `Worker` from src/engine (no private fast paths).
 *
 * The modules are imported by path at run time and typed by the local interfaces below, so
 * the harness type-checks before the API exists; once it lands, these can become static
 * imports with the real types. A job counts as done when its handler returns (switch onDone
 * to a per-job "acked" event if the Worker offers one).
 */
import { JOB_CLASS, QUEUE, type NodeDriver } from './types.js';

type Handler = (args: unknown[], ctx: unknown) => Promise<void>;
interface KiqClient {
  enqueue(job: { class: string; args: unknown[]; queue: string }): Promise<string>;
  enqueueBulk(jobs: Array<{ class: string; args: unknown[]; queue: string }>): Promise<unknown>;
  close?(): Promise<void>;
}
interface KiqWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
}
interface ClientModule {
  Client: new (opts: { redis: string }) => KiqClient;
}
interface EngineModule {
  Worker: new (opts: { redis: string; queues: Record<string, number>; handlers: Map<string, Handler> }) => KiqWorker;
}

const clientModule = '../../src/client/index.js';
const engineModule = '../../src/engine/index.js';

export const driver: NodeDriver = {
  async openProducer(url) {
    const { Client } = (await import(clientModule)) as ClientModule;
    const client = new Client({ redis: url });
    return {
      async enqueueOne(args) {
        await client.enqueue({ class: JOB_CLASS, args, queue: QUEUE });
      },
      async enqueueBulk(argsList) {
        await client.enqueueBulk(argsList.map((args) => ({ class: JOB_CLASS, args, queue: QUEUE })));
      },
      async close() {
        await client.close?.();
      },
    };
  },

  async startWorker(url, { concurrency, onStart, onDone }) {
    const { Worker } = (await import(engineModule)) as EngineModule;
    const worker = new Worker({
      redis: url,
      queues: { [QUEUE]: concurrency },
      handlers: new Map<string, Handler>([
        [JOB_CLASS, async (args) => { onStart(args); onDone(); }],
      ]),
    });
    await worker.start();
    return { stop: () => worker.stop() };
  },
};
