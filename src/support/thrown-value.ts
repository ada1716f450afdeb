/**
 * Whatever a handler throws, described as three plain values that cannot throw when read,
 * logged, serialized or sliced: the error class, the message and the stack frames.
 *
 * JavaScript can throw anything: a string, a Symbol, a BigInt, null, a circular object, an
 * Error whose `message` is a number or a getter that throws, a Proxy whose every trap throws.
 * The failure path (retry entry, log line, event) reads only this description, so no thrown
 * value can make recording the failure fail (the job would then stay in in-progress, be given
 * back by the stranded-jobs audit and re-run forever, without a retry count).
 */
import { inspect, types } from 'node:util';

/** A thrown value as the failure path records it: always plain strings. */
export interface ThrownDescription {
  /** Sidekiq's error_class: the error's name or constructor name, `Error` for non-errors. */
  errorClass: string;
  /** Sidekiq's error_message: the error's message, or a description of a non-error value. */
  errorMessage: string;
  /** Stack frames, most recent first, without the message line and `at ` (empty when none). */
  backtrace: string[];
}

/** Runs `read`, or gives `fallback` when it throws (a getter, a Proxy trap, a toString). */
function attempt<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

// Bounded, and blind to user code: no custom inspect, no getters; a Proxy is shown as its
// target (inspect reads the target without calling any trap).
const INSPECT_OPTIONS = {
  depth: 3, maxArrayLength: 20, maxStringLength: 2_000, breakLength: Infinity, customInspect: false, getters: false, showProxy: false,
} as const;

/** A readable one-line description of any value (inspect-like: circular refs, BigInt, Symbols). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return value;
  return attempt(() => inspect(value, INSPECT_OPTIONS), attempt(() => `<${typeof value}>`, '<unreadable>'));
}

/** True for a real Error (also from another realm) or anything with Error.prototype in its chain. */
export function isErrorLike(value: object): boolean {
  // types.isNativeError never calls a trap; instanceof calls getPrototypeOf, which may throw.
  return attempt(() => types.isNativeError(value), false) || attempt(() => value instanceof Error, false);
}

function errorClassOf(err: object): string {
  const name = attempt<unknown>(() => (err as { name?: unknown }).name, undefined);
  if (typeof name === 'string' && name !== '' && name !== 'Error') return name;
  const ctor = attempt<unknown>(() => Object.getPrototypeOf(err)?.constructor?.name, undefined);
  return typeof ctor === 'string' && ctor !== '' ? ctor : 'Error';
}

const UNREADABLE = Symbol('unreadable');

function errorMessageOf(err: object): string {
  const message = attempt<unknown>(() => (err as { message?: unknown }).message, UNREADABLE);
  if (typeof message === 'string') return message;
  if (message === UNREADABLE) return '<unreadable message>';
  return message === undefined ? '' : describeValue(message);
}

/** Stack frames without the message line, `at ` stripped (Sidekiq's backtrace is one frame a line). */
function backtraceOf(err: object): string[] {
  const stack = attempt<unknown>(() => (err as { stack?: unknown }).stack, undefined);
  if (typeof stack !== 'string') return [];
  return stack.split('\n').slice(1).map((l) => l.trim().replace(/^at /, '')).filter((l) => l !== '');
}

/** Describes any thrown value; never throws. */
export function describeThrown(value: unknown): ThrownDescription {
  try {
    if (typeof value === 'string') return { errorClass: 'Error', errorMessage: value, backtrace: [] };
    if (((typeof value === 'object' && value !== null) || typeof value === 'function') && isErrorLike(value)) {
      return { errorClass: errorClassOf(value), errorMessage: errorMessageOf(value), backtrace: backtraceOf(value) };
    }
    return { errorClass: 'Error', errorMessage: `non-error thrown: ${describeValue(value)}`, backtrace: [] };
  } catch {
    // Nothing above should throw; this is the guarantee, not a path.
    return { errorClass: 'Error', errorMessage: 'non-error thrown: <unreadable>', backtrace: [] };
  }
}
