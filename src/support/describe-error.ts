/**
 * Words for whatever was thrown. JavaScript can throw anything (`throw "boom"`, `throw 42`,
 * `throw undefined`), so code that reads `(err as Error).message` prints "undefined" or
 * crashes on the very error it is reporting.
 */

/** An Error's message; otherwise what was thrown, quoted or named: `it threw "boom"`. */
export function describeThrown(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return `it threw ${JSON.stringify(err)}`;
  if (err === null || err === undefined || typeof err === 'number' || typeof err === 'boolean' || typeof err === 'bigint') return `it threw ${String(err)}`;
  if (typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') return (err as { message: string }).message;
  let shown: string;
  try {
    shown = JSON.stringify(err) ?? String(err);
  } catch {
    shown = Object.prototype.toString.call(err);
  }
  return `it threw ${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}`;
}
