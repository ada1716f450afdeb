// A complete workers module (CommonJS): `npx kiqgate worker --require ./examples/workers.cjs`.
// For a package without "type": "module" (a .js file there is CommonJS), or any .cjs file.
// `module.exports` is read as the default export: the same shape as workers.mjs.

/** Stands for what an app opens at boot and must close at exit (a database pool, a client). */
let resources;

module.exports = {
  handlers: {
    HardJob: async (args, ctx) => {
      ctx.logger.info({ args: args.map(String), uptimeMs: Date.now() - resources.openedAt }, 'hard work');
    },
    FlakyJob: {
      handler: async ([n], ctx) => {
        if (ctx.signal.aborted) return;
        if (Number(n) % 2 === 1) throw new Error(`odd input ${n}`);
      },
      retryAt: (failedAt, retryCount) => new Date(failedAt.getTime() + 10_000 * (retryCount + 1)),
    },
  },
  async startup() {
    resources = { openedAt: Date.now(), keepAlive: setInterval(() => {}, 60_000) };
  },
  async shutdown() {
    clearInterval(resources.keepAlive);
  },
};
