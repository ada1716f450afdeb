/**
 * The one queue-name rule, shared by enqueue (normalize, the Client, `kiqgate enqueue`) and the
 * worker (every config layer): a job must never be pushed to a queue that no way of starting a
 * kiqgate worker can name. The worker's `name:N` syntax and KIQGATE_QUEUES's comma list are
 * why ':' and ',' are out; whitespace and control characters are never what a user meant.
 */

/** Longest queue name accepted (the key `queue:<name>` stays far below any Redis limit). */
export const MAX_QUEUE_NAME_LENGTH = 200;

// \s covers Unicode spaces; \p{Cc} the C0/C1 control characters (NUL, newline, DEL, ...).
const FORBIDDEN = /[\s\p{Cc},:]/u;

/** What is wrong with `name` as a queue name, or undefined when it is a valid one. */
export function queueNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `expected a queue name (a string), got ${name === null ? 'null' : typeof name}`;
  if (name === '') return 'expected a queue name, got an empty string';
  if (name.length > MAX_QUEUE_NAME_LENGTH) return `a queue name may be at most ${MAX_QUEUE_NAME_LENGTH} characters, got ${name.length}`;
  const bad = FORBIDDEN.exec(name);
  if (bad) {
    const ch = bad[0];
    const what = ch === ',' ? "','" : ch === ':' ? "':'" : /\s/u.test(ch) && ch.charCodeAt(0) >= 0x20 ? 'whitespace' : 'a control character';
    return `a queue name may not hold whitespace, control characters, ',' or ':' (got ${JSON.stringify(name)}, which holds ${what})`;
  }
  return undefined;
}
