/**
 * Secrets never reach logs, errors or CLI output: Redis URLs are shown with the password
 * replaced, and error messages that quote a URL are scrubbed the same way. ioredis attaches
 * the failed command's arguments to its errors (`err.command.args`), so a failed AUTH would
 * carry the password into any logger that serializes the error: {@link scrubCommandError}
 * removes them.
 */

/**
 * A Redis URL with credentials inside text: everything between `://` and the last `@` before
 * whitespace is credentials, so a password holding an unencoded `/`, `#`, `:` or `@` (which
 * WHATWG URL parsing would split elsewhere) is still masked whole.
 */
const URL_IN_TEXT = /\b(rediss?|redis\+sentinel):\/\/([^\s]*)@/gi;
/** ioredis also reads `?password=` from a URL's query. */
const PASSWORD_PARAM = /([?&]password=)[^&#\s]*/gi;
/** Commands whose arguments hold a secret. */
const SECRET_COMMANDS = new Set(['auth', 'hello', 'migrate', 'acl', 'config']);

/** `user:secret` → `user:***`; `:secret` → `:***`; `secret` (no user part) → `***`. */
function maskCredentials(creds: string): string {
  const colon = creds.indexOf(':');
  const slash = creds.search(/[/?#]/);
  if (colon < 0 || (slash >= 0 && slash < colon)) return '***';
  return `${creds.slice(0, colon)}:***`;
}

/** `redis://user:secret@host:6379/0` → `redis://user:***@host:6379/0` (and `?password=***`). */
export function redactUrl(url: string): string {
  return redactText(url);
}

/** Scrubs every credential-bearing Redis URL inside free text (error messages, log lines). */
export function redactText(text: string): string {
  return text
    .replace(URL_IN_TEXT, (_m, scheme: string, creds: string) => `${scheme}://${maskCredentials(creds)}@`)
    .replace(PASSWORD_PARAM, '$1***');
}

/**
 * Scrubs an error in place and returns it: the arguments ioredis attached to an error of a
 * secret-bearing command (AUTH, HELLO … AUTH, ACL SETUSER …) become `***`, and the `input` that
 * Node's URL parser attaches to ERR_INVALID_URL (the whole URL, password included) is redacted.
 */
export function scrubCommandError<T>(err: T): T {
  if (err === null || typeof err !== 'object') return err;
  const e = err as { command?: { name?: unknown; args?: unknown }; input?: unknown; message?: unknown };
  const cmd = e.command;
  if (cmd && typeof cmd === 'object' && typeof cmd.name === 'string' && SECRET_COMMANDS.has(cmd.name.toLowerCase())) {
    e.command = { name: cmd.name, args: ['***'] };
  }
  if (typeof e.input === 'string') e.input = redactText(e.input);
  if (typeof e.message === 'string' && err instanceof Error) {
    const clean = redactText(e.message);
    if (clean !== e.message) {
      err.message = clean;
      if (typeof err.stack === 'string') err.stack = redactText(err.stack);
    }
  }
  return err;
}
