/**
 * Caps the free text (error messages) that goes into a log line. A handler can throw with a
 * message of any size; the retry entry keeps the first 10,000 characters (src/wire/failure.ts),
 * a log line keeps the first {@link MAX_LOGGED_CHARS} and says how long the original was, so
 * one failing job cannot write megabytes to the log for every attempt.
 */

/** The most characters of one error message a log line carries. */
export const MAX_LOGGED_CHARS = 1_000;

/** `text`, or its first `max` characters plus a note of the original length. */
export function logText(text: string, max = MAX_LOGGED_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… [truncated: ${text.length} chars in all]`;
}
