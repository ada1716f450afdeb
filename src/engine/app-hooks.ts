/**
 * The application's lifecycle hooks around a Worker (Sidekiq's `:startup` and `:shutdown`
 * events): when each runs, what a throw does, and what a forced stop no longer waits for.
 * The Worker decides *when* to call {@link AppHooks.start} and {@link AppHooks.finish}; this
 * module owns the hooks' own rules, so worker.ts stays the wiring of the engine's parts.
 */
import type { Logger } from 'pino';
import { explainThrown } from '../support/describe-error.js';
import { redactText } from '../support/redact.js';
import { ConfigError } from './config.js';

/**
 * The application's lifecycle hooks. Either may be async. A `startup` that throws fails start()
 * (nothing was fetched; the node id is released) and `shutdown` does not run; a `shutdown` that
 * throws is logged, and stop() still resolves.
 */
export interface WorkerHooks {
  /** Runs in start() once Redis answers and the node id is claimed, before any job is fetched. */
  startup?: () => Promise<void> | void;
  /**
   * Runs in stop() once the worker is done: every job finished or was given back to its queue,
   * the process is deregistered, the node id released and the worker's connections closed.
   * So it may close anything the jobs used; a slow hook delays only stop()'s return. After
   * stop({ force: true }) it is called but not waited for.
   */
  shutdown?: () => Promise<void> | void;
}

export class AppHooks {
  /** Whether start() got as far as the application's startup (so its shutdown is due). */
  private started = false;
  /** The startup hook's run, resolving to its error if it threw (finish() waits for it). */
  private startupRun: Promise<Error | undefined> | undefined;

  /**
   * @param forced resolves when the stop is forced: neither hook is waited for from then on.
   * @throws ConfigError when a hook is given but is not a function.
   */
  constructor(private readonly hooks: WorkerHooks, private readonly logger: Logger, private readonly forced: Promise<void>) {
    for (const name of ['startup', 'shutdown'] as const) {
      const hook = hooks[name];
      if (hook !== undefined && typeof hook !== 'function') throw new ConfigError(name, 'API', `expected a function, got ${typeof hook}`);
    }
  }

  /**
   * Runs the startup hook, if any; resolves to the error to fail start() with when it threw, or
   * to undefined when it finished (or the stop was forced while it ran: a second Ctrl-C during
   * a slow startup does not wait for it).
   */
  async start(): Promise<Error | undefined> {
    this.started = true;
    const hook = this.hooks.startup;
    if (!hook) return undefined;
    this.startupRun = (async () => {
      try {
        await hook();
        return undefined;
      } catch (err) {
        const why = redactText(explainThrown(err));
        this.logger.error({ err: why }, 'startup hook failed: the worker does not start');
        return new Error(`startup hook failed: ${why}`, { cause: err });
      }
    })();
    return Promise.race([this.startupRun, this.forced.then(() => undefined)]);
  }

  /**
   * Ends the application's side: waits for a startup hook still running (shutdown hook or not:
   * it may be doing what must not be cut short), then runs the shutdown hook, when the
   * application started (a startup hook that threw means it did not); neither is waited for
   * once the stop is forced.
   */
  async finish(): Promise<void> {
    if (!this.started) return; // stopped before the application started: nothing to shut down
    if (this.startupRun) {
      const startup = await Promise.race([this.startupRun, this.forced.then(() => 'forced' as const)]);
      if (startup !== undefined) return;
    }
    const hook = this.hooks.shutdown;
    if (!hook) return;
    const run = (async () => { await hook(); })().then(
      () => 'done' as const,
      (err: unknown) => {
        // Described, never serialized: whatever the hook threw must not make stop() fail.
        this.logger.error({ err: redactText(explainThrown(err)) }, 'shutdown hook failed');
        return 'done' as const;
      },
    );
    const outcome = await Promise.race([run, this.forced.then(() => 'forced' as const)]);
    if (outcome === 'forced') this.logger.warn('forced stop: not waiting for the shutdown hook');
  }
}
