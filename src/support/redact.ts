/**
 * Secrets never reach logs, errors or CLI output: Redis URLs are shown with the password
 * replaced, and error messages that quote a URL are scrubbed the same way. ioredis attaches
 * the failed command's arguments to its errors (`err.command.args`), so a failed AUTH would
 * carry the password into any logger that serializes the error: {@link scrubCommandError}
 * removes them.
 */

const URL_IN_TEXT = /\b(rediss?|redis\+sentinel):\/\/([^\s/@:]*)(?::([^\s/@]*))?@/gi;
/** ioredis also reads `?password=` from a URL's query. */
const PASSWORD_PARAM = /([?&]password=)[^&#\s]*/gi;
/** Commands whose arguments hold a secret. */
const SECRET_COMMANDS = new Set(['auth', 'hello', 'migrate', 'acl', 'config']);

/** `redis://user:secret@host:6379/0` → `redis://user:***@host:6379/0`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    else if (u.username && !u.password && url.includes('@')) {
      // `redis://:secret@host` parses as a username on some inputs; never print it.
      u.username = '***';
    }
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.toString();
  } catch {
    return redactText(url);
  }
}

/** Scrubs every credential-bearing Redis URL inside free text (error messages, log lines). */
export function redactText(text: string): string {
  return text
    .replace(URL_IN_TEXT, (_m, scheme: string, user: string, pass: string | undefined) =>
      pass === undefined ? `${scheme}://***@` : `${scheme}://${user}:***@`)
    .replace(PASSWORD_PARAM, '$1***');
}

/**
 * Replaces the arguments ioredis attached to an error of a secret-bearing command (AUTH,
 * HELLO … AUTH, ACL SETUSER …) with `***`, in place; returns the same error.
 */
export function scrubCommandError<T>(err: T): T {
  const cmd = (err as { command?: { name?: unknown; args?: unknown } } | null)?.command;
  if (cmd && typeof cmd === 'object' && typeof cmd.name === 'string' && SECRET_COMMANDS.has(cmd.name.toLowerCase())) {
    (err as { command: unknown }).command = { name: cmd.name, args: ['***'] };
  }
  return err;
}
