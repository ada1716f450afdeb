// A complete workers module (ESM): `npx kiqgate worker --require ./examples/workers.mjs`.
// For a package with "type": "module", or any .mjs file. The CommonJS twin is workers.cjs.
//
// The default export holds the handlers (class name → function, exactly the class name the
// producer wrote: Sidekiq's `HardJob.perform_async(...)` arrives as class "HardJob") and two
// optional hooks. kiqgate never imports a module named by a job: only these classes run.

/** Stands for what an app opens at boot and must close at exit (a database pool, a client). */
let resources;

export default {
  handlers: {
    // args arrive as the producer wrote them: integers beyond 2^53 as BigInt, unicode intact.
    HardJob: async (args, ctx) => {
      ctx.logger.info({ args: args.map(String), uptimeMs: Date.now() - resources.openedAt }, 'hard work');
    },
    // A class with its own retry schedule (else Sidekiq's backoff): 10 s, 20 s, 30 s, ...
    FlakyJob: {
      handler: async ([n], ctx) => {
        if (ctx.signal.aborted) return; // the AbortSignal fires at a hard shutdown
        if (Number(n) % 2 === 1) throw new Error(`odd input ${n}`);
      },
      retryAt: (failedAt, retryCount) => new Date(failedAt.getTime() + 10_000 * (retryCount + 1)),
    },
  },

  // Before the first job is fetched. A hook that throws stops the worker (exit 1).
  async startup() {
    resources = { openedAt: Date.now(), keepAlive: setInterval(() => {}, 60_000) };
  },

  // After the last job finished or went back to its queue. The process exits after it, even if
  // something is still open, so close what must be flushed here.
  async shutdown() {
    clearInterval(resources.keepAlive);
  },
};
