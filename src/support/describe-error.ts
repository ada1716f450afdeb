/**
 * Words for a person about whatever was thrown. JavaScript can throw anything (`throw "boom"`,
 * `throw 42`, `throw undefined`), so code that reads `(err as Error).message` prints "undefined"
 * or crashes on the very error it is reporting. Built on the failure path's describer, which
 * never throws (src/support/thrown-value.ts).
 */
import { describeThrown, describeValue, isErrorLike } from './thrown-value.js';

/** An Error's message; otherwise what was thrown, quoted or named: `it threw "boom"`. */
export function explainThrown(err: unknown): string {
  if (typeof err === 'string') return `it threw ${JSON.stringify(err)}`;
  if ((typeof err === 'object' && err !== null) && isErrorLike(err)) {
    const d = describeThrown(err);
    return d.errorMessage || d.errorClass;
  }
  const shown = describeValue(err);
  return `it threw ${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}`;
}
