/**
 * The seam between the Worker and the services that report on it (the Sidekiq process
 * heartbeat, Verk's node registry). A service sees the running engine only through this view,
 * so it can be started, stopped and tested on its own against a real Redis.
 */
import type { Logger } from 'pino';
import type { KeyLayout, Peer } from '../wire/index.js';

/** One job currently running (for Sidekiq's `<identity>:work` hash). */
export interface RunningJob {
  /** A stable id of the worker slot running it (Sidekiq calls it the thread id). */
  slotId: string;
  queue: string;
  /** The exact payload text as fetched. */
  payload: string;
  /** Epoch ms when it started. */
  startedAtMs: number;
}

export interface EngineView {
  /** Verk-style node id: names the in-progress lists `inprogress:<q>:<nodeId>`. */
  readonly nodeId: string;
  /** Sidekiq process identity, `<hostname>:<pid>:<12 hex>`. */
  readonly identity: string;
  readonly keys: KeyLayout;
  readonly logger: Logger;
  /** The runtime the engine stands in for (a Sidekiq version: the heartbeat's layout, 5 s vs 10 s beat, `:workers` vs `:work`). */
  readonly peer: Peer;
  /** Names of the queues this engine consumes now. */
  queues(): string[];
  /** Total concurrency over all queues. */
  concurrency(): number;
  /** Jobs running right now. */
  running(): RunningJob[];
  /** True once the engine stopped fetching (quiet or stopping). */
  isQuiet(): boolean;
  /** Stops fetching new jobs; running ones finish (Sidekiq's TSTP). */
  quiet(): void;
  /** Starts a graceful stop (Sidekiq's TERM). */
  requestStop(): void;
  /**
   * Moves every job in `inprogress:<queue>:<node>` back to `queue:<queue>` atomically, in
   * batches, to the consuming end (they run next). Resolves to the number of jobs moved.
   */
  requeueInProgress(queue: string, node: string): Promise<number>;
}

/** A background service of the engine. */
export interface EngineService {
  start(): Promise<void>;
  /** Stops the service; it must not leave timers or connections behind. */
  stop(): Promise<void>;
}
