/**
 * The handler registry: job class name → the code that runs it.
 *
 * A `Map`, never a plain object lookup, so a payload naming `__proto__`, `constructor` or
 * `toString` finds no handler and fails as an unknown class instead of calling into
 * Object.prototype. Args schemas are compiled once, when the registry is built, so a bad
 * schema is an error at startup, not at the first job.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Logger } from 'pino';
import type { DecodedJob, NativeJson } from '../wire/index.js';
import type { ActiveJobEnvelope } from '../wire/activejob/index.js';
import { type DiscardOnRule, type RetryOnRule, checkRules } from './activejob-rules.js';

/** What a handler gets besides its arguments. */
export interface JobContext {
  jid: string | undefined;
  queue: string;
  className: string;
  /** retry_count after the last failure; undefined on a first run. */
  retryCount: number | undefined;
  /** Fires when the worker stops and the job did not finish within the shutdown timeout. */
  signal: AbortSignal;
  logger: Logger;
  job: DecodedJob;
  /** ActiveJob hook: the ActiveJob envelope, for a Rails job run by its ActiveJob class's handler. */
  activeJob?: ActiveJobEnvelope;
}

export type Handler = (args: NativeJson[], ctx: JobContext) => unknown;

export interface HandlerDefinition {
  handler: Handler;
  /** Next run time after a failure: (failed at, new retry_count) → a Date or epoch ms. */
  retryAt?: (failedAt: Date, retryCount: number) => Date | number;
  /** JSON Schema (2020-12) the args array must satisfy (checked before the handler runs). */
  argsSchema?: object;
  /**
   * For a consumer without a retry set (`Dialect.inProcessRetries`: a worker with peer resque):
   * run the handler again up to this many times, in-process, before writing the failure to
   * `failed` (default 0: Resque has no retries). The job stays in the in-progress list
   * meanwhile, so a crash re-runs it; a stop gives it back. Other peers retry through their
   * retry sets and ignore it.
   */
  retries?: number;
  /** With `retries`: the wait before re-run n (1-based) is n × this (default 1000 ms). */
  retryDelayMs?: number;
  /** ActiveJob hook: retry_on rules of an ActiveJob class (engine/activejob-rules.ts). */
  retryOn?: RetryOnRule[];
  /** ActiveJob hook: discard_on rules of an ActiveJob class. */
  discardOn?: DiscardOnRule[];
}

/** Handlers as users write them: a Map or an object of class name → handler or definition. */
export type HandlerTable = Map<string, Handler | HandlerDefinition> | Record<string, Handler | HandlerDefinition>;

export interface RegisteredClass {
  name: string;
  handler: Handler;
  retryAt?: (failedAt: Date, retryCount: number) => Date | number;
  validateArgs?: ValidateFunction;
  retries?: number;
  retryDelayMs?: number;
  retryOn?: RetryOnRule[];
  discardOn?: DiscardOnRule[];
}

export class Registry {
  private readonly classes = new Map<string, RegisteredClass>();
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });

  constructor(table?: HandlerTable) {
    if (!table) return;
    // Objects: own enumerable properties only, so nothing inherited becomes a job class.
    const entries = table instanceof Map ? [...table.entries()] : Object.entries(table);
    for (const [name, def] of entries) this.register(name, def);
  }

  register(name: string, def: Handler | HandlerDefinition): void {
    if (typeof name !== 'string' || name === '') throw new TypeError('a job class name must be a non-empty string');
    const d: HandlerDefinition = typeof def === 'function' ? { handler: def } : def;
    if (!d || typeof d.handler !== 'function') throw new TypeError(`handler for job class '${name}' must be a function or { handler }`);
    let validateArgs: ValidateFunction | undefined;
    if (d.argsSchema !== undefined) {
      try {
        validateArgs = this.ajv.compile(d.argsSchema);
      } catch (err) {
        throw new TypeError(`argsSchema of job class '${name}' does not compile: ${(err as Error).message}`);
      }
    }
    for (const k of ['retries', 'retryDelayMs'] as const) {
      const v = d[k];
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new TypeError(`${k} of job class '${name}' must be a non-negative integer, got ${String(v)}`);
    }
    const entry: RegisteredClass = { name, handler: d.handler };
    if (d.retries !== undefined) entry.retries = d.retries;
    if (d.retryDelayMs !== undefined) entry.retryDelayMs = d.retryDelayMs;
    if (d.retryAt) entry.retryAt = d.retryAt;
    if (validateArgs) entry.validateArgs = validateArgs;
    // ActiveJob hook: retry_on / discard_on rules, checked now.
    checkRules(name, d.retryOn, d.discardOn);
    if (d.retryOn) entry.retryOn = d.retryOn;
    if (d.discardOn) entry.discardOn = d.discardOn;
    this.classes.set(name, entry);
  }

  get(name: string): RegisteredClass | undefined {
    return this.classes.get(name);
  }

  names(): string[] {
    return [...this.classes.keys()];
  }

  /** Describes why `args` fail the class's schema, or undefined when they pass. */
  static argsProblem(cls: RegisteredClass, args: NativeJson[]): string | undefined {
    if (!cls.validateArgs || cls.validateArgs(args)) return undefined;
    const errs = (cls.validateArgs.errors ?? []).map((e) => `${e.instancePath || '(args)'} ${e.message ?? 'is invalid'}`);
    return `args of job class '${cls.name}' fail its schema: ${errs.join('; ')}`;
  }
}
