/**
 * What a bulk action reports, and how it reports progress: the CLI draws a bar from these
 * calls; a library caller may log them. Bulk actions go in batches (one read and one pipeline
 * of compare-and-move scripts per batch), so a 100,000-entry set never sits in memory whole.
 */

/** Entries examined so far of about `total` (the size when the action began). */
export interface BulkProgress {
  readonly done: number;
  readonly total: number;
}

export type ProgressFn = (p: BulkProgress) => void;

/** The outcome of a bulk action (or of an action by id). */
export interface BulkResult {
  /** Entries that matched the filter (or the id). */
  matched: number;
  /** Entries this call moved or deleted. */
  done: number;
  /** Matched entries already gone when their script ran (moved or deleted by someone else). */
  gone: number;
  /** Matched entries left alone: ones that cannot be decoded, for a retry (their queue is unknown). */
  skipped: number;
}

/** Entries per read and per pipeline. */
export const BATCH = 1000;

export function emptyResult(): BulkResult {
  return { matched: 0, done: 0, gone: 0, skipped: 0 };
}

/** Adds `b` into `a`. */
export function addResult(a: BulkResult, b: BulkResult): void {
  a.matched += b.matched;
  a.done += b.done;
  a.gone += b.gone;
  a.skipped += b.skipped;
}

/** Counts a pipeline's replies: 1 = done, 0 = gone; an error reply is thrown. */
export function countReplies(replies: Array<[Error | null, unknown]> | null, into: BulkResult): void {
  for (const [err, ok] of replies ?? []) {
    if (err) throw err;
    if (Number(ok) >= 1) into.done++;
    else into.gone++;
  }
}

/** `*`, `?`, `[`, `]` and `\` escaped for a SCAN MATCH pattern. */
export function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
