/**
 * Secrets never reach logs, errors or CLI output: Redis URLs are shown with the password
 * replaced, and error messages that quote a URL are scrubbed the same way.
 */

const URL_IN_TEXT = /\b(rediss?|redis\+sentinel):\/\/([^\s/@:]*)(?::([^\s/@]*))?@/gi;

/** `redis://user:secret@host:6379/0` → `redis://user:***@host:6379/0`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    else if (u.username && !u.password && url.includes('@')) {
      // `redis://:secret@host` parses as a username on some inputs; never print it.
      u.username = '***';
    }
    return u.toString();
  } catch {
    return redactText(url);
  }
}

/** Scrubs every credential-bearing Redis URL inside free text (error messages, log lines). */
export function redactText(text: string): string {
  return text.replace(URL_IN_TEXT, (_m, scheme: string, user: string, pass: string | undefined) =>
    pass === undefined ? `${scheme}://***@` : `${scheme}://${user}:***@`);
}
