/**
 * Typed engine events (Verk's JobStarted/JobFinished/JobFailed and QueueRunning/Pausing/Paused),
 * on an EventEmitter and as an async iterator, for metrics and error trackers.
 *
 * Emitting never throws into the engine: a listener that throws is logged and ignored, so
 * an error tracker cannot break job processing. Nothing here touches Redis.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { logText } from './log-text.js';
import { describeThrown } from '../support/thrown-value.js';
import type { FailureOutcome } from '../wire/index.js';

export interface JobEventBase {
  queue: string;
  className: string;
  jid: string | undefined;
  /** Epoch ms when the handler was called. */
  startedAt: number;
}

export interface EngineEvents {
  'job:started': JobEventBase;
  'job:finished': JobEventBase & { finishedAt: number; durationMs: number };
  'job:failed': JobEventBase & {
    failedAt: number;
    durationMs: number;
    /** The value the handler threw, as thrown (it may be anything: read it with care). */
    error: unknown;
    /** The error's class as recorded in the retry/dead entry (a safe description of `error`). */
    errorClass: string;
    /** The error's message as recorded (whole; the entry keeps the first 10,000 characters). */
    errorMessage: string;
    /** What happened to the job: retry, dead, dropped, or (a Resque worker) Resque's `failed` list. */
    outcome: FailureOutcome['kind'];
  };
  'queue:running': { queue: string };
  'queue:pausing': { queue: string };
  'queue:paused': { queue: string };
}

export type EngineEventName = keyof EngineEvents;
export type EngineEvent = { [K in EngineEventName]: { type: K } & EngineEvents[K] }[EngineEventName];

export const EVENT_NAMES: readonly EngineEventName[] = ['job:started', 'job:finished', 'job:failed', 'queue:running', 'queue:pausing', 'queue:paused'];

/** An EventEmitter whose `on`/`emit` know the engine's event payloads. */
export class EngineEmitter extends EventEmitter {
  constructor(private readonly log?: Logger) {
    super({ captureRejections: false });
  }

  override on<K extends EngineEventName>(name: K, listener: (e: EngineEvents[K]) => void): this;
  override on(name: string | symbol, listener: (...args: any[]) => void): this;
  override on(name: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(name, listener);
  }

  /** Emits without letting a listener's exception reach the caller. */
  fire<K extends EngineEventName>(name: K, payload: EngineEvents[K]): void {
    if (this.listenerCount(name) === 0) return;
    try {
      this.emit(name, payload);
    } catch (err) {
      // What a listener throws may be hostile too: log its description, never the value.
      const d = describeThrown(err);
      try {
        this.log?.error({ event: name, errorClass: d.errorClass, err: logText(d.errorMessage) }, 'event listener threw; ignored');
      } catch {
        // A logger that throws must not reach the engine either.
      }
    }
  }

  /**
   * Every event from now on, in order, as `{ type, ...payload }`. Breaking out of the loop (or
   * calling `return()`) unsubscribes. Events are buffered while the consumer is busy.
   */
  events(names: readonly EngineEventName[] = EVENT_NAMES): AsyncIterableIterator<EngineEvent> {
    const buffer: EngineEvent[] = [];
    let waiting: ((r: IteratorResult<EngineEvent>) => void) | undefined;
    let done = false;
    const listeners = names.map((type) => {
      const fn = (payload: object) => {
        const e = { type, ...payload } as EngineEvent;
        if (waiting) {
          const w = waiting;
          waiting = undefined;
          w({ value: e, done: false });
        } else buffer.push(e);
      };
      super.on(type, fn);
      return [type, fn] as const;
    });
    const finish = (): IteratorResult<EngineEvent> => {
      done = true;
      for (const [type, fn] of listeners) this.off(type, fn);
      buffer.length = 0;
      if (waiting) waiting({ value: undefined, done: true });
      waiting = undefined;
      return { value: undefined, done: true };
    };
    return {
      next: () => {
        if (buffer.length > 0) return Promise.resolve({ value: buffer.shift()!, done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => { waiting = resolve; });
      },
      return: () => Promise.resolve(finish()),
      [Symbol.asyncIterator]() { return this; },
    };
  }
}
