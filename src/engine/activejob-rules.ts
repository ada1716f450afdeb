/**
 * ActiveJob's `retry_on` and `discard_on`, declared on a handler (`retryOn`, `discardOn`) and
 * applied as ActiveJob 6.1 does (activejob/lib/active_job/exceptions.rb):
 *
 * - retry_on: the error's counter in `exception_executions` (keyed by the list of exception
 *   names, Ruby's `Array#to_s`: `"[FlakyError]"`, `"[A, B]"`) is incremented; while it stays
 *   below `attempts` (default 5) a new job is pushed to `schedule` after `wait` (default 3 s;
 *   `'exponentially_longer'` / `'polynomially_longer'`: counter⁴ + 2 s; or a function of the
 *   counter), plus `jitter` (default 0, bare ActiveJob's; Rails' `load_defaults 6.1` sets 0.15)
 *   × rand × delay. Once it reaches `attempts` the error goes on to Sidekiq's retry of the wrapper.
 * - discard_on: the error is swallowed; the run counts as done.
 *
 * An error matches a rule by class name (the name Ruby would see: `error.name`, or the
 * constructor's name) or, for a constructor, by instanceof. Rails tries its handlers from the
 * last declared; here the `discardOn` rules are tried first, then `retryOn` from the last. Pure.
 */

/** An exception a rule names: a class name (`'FlakyError'`) or a JS error class. */
export type ErrorMatcher = string | (abstract new (...args: never[]) => unknown);

export interface RetryOnRule {
  /** The exceptions (Ruby's `retry_on FlakyError, OtherError`). */
  errors: readonly ErrorMatcher[];
  /** Seconds, an algorithm name, or a function of the attempt counter; default 3. */
  wait?: number | 'exponentially_longer' | 'polynomially_longer' | ((executions: number) => number);
  /** Runs at most this many times for these errors; default 5. */
  attempts?: number;
  /** Fraction of the delay added at random (0 to 1); default 0. */
  jitter?: number;
  /** Re-enqueue into this queue (retry_on's `queue:`). */
  queue?: string;
  /** Re-enqueue with this priority (retry_on's `priority:`). */
  priority?: number;
}

export interface DiscardOnRule {
  errors: readonly ErrorMatcher[];
}

const nameOf = (m: ErrorMatcher): string => (typeof m === 'string' ? m : m.name);

/** The exception_executions key of a rule: Ruby's `[FlakyError, OtherError].to_s`. */
export function counterKey(rule: { errors: readonly ErrorMatcher[] }): string {
  return `[${rule.errors.map(nameOf).join(', ')}]`;
}

function matches(rule: { errors: readonly ErrorMatcher[] }, err: unknown, errorClass: string): boolean {
  return rule.errors.some((m) => (typeof m === 'string' ? m === errorClass : err instanceof (m as unknown as new () => unknown) || m.name === errorClass));
}

/** Which rule handles `err` (class name `errorClass`, as the retry entry names it). */
export function ruleFor(err: unknown, errorClass: string, retryOn: readonly RetryOnRule[] = [], discardOn: readonly DiscardOnRule[] = []):
  { kind: 'discard' } | { kind: 'retry'; rule: RetryOnRule } | undefined {
  if (discardOn.some((r) => matches(r, err, errorClass))) return { kind: 'discard' };
  for (let i = retryOn.length - 1; i >= 0; i--) if (matches(retryOn[i]!, err, errorClass)) return { kind: 'retry', rule: retryOn[i]! };
  return undefined;
}

/** retry_on's delay in seconds for the counter value (determine_delay). */
export function retryDelaySeconds(rule: RetryOnRule, executions: number, random: () => number = Math.random): number {
  const jitter = rule.jitter ?? 0;
  const w = rule.wait ?? 3;
  if (typeof w === 'function') return w(executions);
  const withJitter = (d: number) => d + (jitter === 0 ? 0 : random() * d * jitter);
  if (w === 'exponentially_longer' || w === 'polynomially_longer') return withJitter(executions ** 4) + 2;
  return withJitter(Math.trunc(w));
}

/** Checks a rule list at registration; a TypeError naming the class and the rule otherwise. */
export function checkRules(className: string, retryOn: unknown, discardOn: unknown): void {
  const check = (list: unknown, what: string) => {
    if (list === undefined) return;
    if (!Array.isArray(list)) throw new TypeError(`${what} of job class '${className}' must be an array of rules`);
    list.forEach((r: unknown, i) => {
      const rule = r as RetryOnRule;
      if (!rule || !Array.isArray(rule.errors) || rule.errors.length === 0 || !rule.errors.every((e) => typeof e === 'string' || typeof e === 'function')) {
        throw new TypeError(`${what}[${i}] of job class '${className}' must have errors: a non-empty list of error class names or classes`);
      }
      if (what === 'retryOn' && rule.attempts !== undefined && (!Number.isInteger(rule.attempts) || rule.attempts < 1)) {
        throw new TypeError(`retryOn[${i}].attempts of job class '${className}' must be a positive integer, got ${String(rule.attempts)}`);
      }
    });
  };
  check(retryOn, 'retryOn');
  check(discardOn, 'discardOn');
}
