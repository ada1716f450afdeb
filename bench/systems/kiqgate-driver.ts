/**
 * kiqgate in-process driver, written against the public API users call: `Client` from
 * src/client and `Worker` from src/engine (no private fast paths). node.ts bundles it with
 * the worker/producer script, src included, as a build of the package would.
 *
 * Until that API exists the imports are unresolved; `@ts-ignore` keeps the harness
 * type-checking meanwhile (kiqgate.ts reports "not built yet" and never bundles this file),
 * and once the modules land the calls below are checked against their real types.
 * A job counts as done when its handler returns (switch onDone to a per-job "acked" event if
 * the Worker offers one).
 */
// @ts-ignore -- src/client/index.ts lands with the client
import { Client } from '../../src/client/index.js';
// @ts-ignore -- src/engine/index.ts lands with the engine
import { Worker } from '../../src/engine/index.js';
import { JOB_CLASS, QUEUE, type NodeDriver } from './types.js';

/** A variant of the worker: more options, and what runs beside it from start to stop (a scraper). */
export interface WorkerVariant {
  options?: Record<string, unknown>;
  /** Called once the worker started; returns what to call before it stops. */
  beside?(worker: InstanceType<typeof Worker>): () => void;
}

export const driver: NodeDriver = variantDriver({});

/** The driver, its workers built with `variant` (kiqgate-metrics-driver.ts: metrics on). */
export function variantDriver(variant: WorkerVariant): NodeDriver {
  return {
  async openProducer(url) {
    const client = new Client({ redis: url });
    // Connected before timing, as the other producers are (BullMQ's waitUntilReady, bare's SADD,
    // Sidekiq's ping): else the first job's latency would carry the connection's setup.
    await client.ready();
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

  async prepareWorker(url, { concurrency, onStart, onDone }) {
    const worker = new Worker({
      redis: url,
      // Each process its own in-progress lists, as README's Deployment advice says: with the
      // default fixed id "1", the scale run's processes requeued each other's running jobs at
      // start (100 duplicates per extra process).
      generateNodeId: true,
      // No per-job "done" line (info by default): bench figures stay comparable with earlier
      // runs and with the other systems, whose workers log nothing per job.
      jobLogLevels: { done: 'debug' },
      queues: { [QUEUE]: concurrency },
      handlers: new Map([
        [JOB_CLASS, async (args: unknown[]) => { onStart(args); onDone(); }],
      ]),
      ...variant.options,
    });
    let end: (() => void) | undefined;
    return {
      start: async () => {
        await worker.start();
        end = variant.beside?.(worker);
      },
      stop: () => {
        end?.();
        return worker.stop();
      },
    };
  },
  };
}
