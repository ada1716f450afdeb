/**
 * The one error type of the wire core. Every rejection says which field was wrong and what was
 * expected, so a caller (or a dead-set reader) can act on it without a stack trace.
 */

/** Why a payload or a job spec was refused. */
export type WireErrorCode =
  | 'invalid_utf8' // the bytes are not UTF-8 text
  | 'invalid_json' // not JSON at all, truncated, or nested too deeply
  | 'invalid_job' // JSON, but not a job hash (missing/ill-typed class, args, queue, ...)
  | 'invalid_args' // args hold values that are not JSON-native
  | 'invalid_option' // an enqueue option (at, in, retry, peer, ...) is out of range
  | 'too_large'; // over the configured payload size limit

export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly code: WireErrorCode,
    message: string,
    /** The field (or args path) at fault, when there is one: `args`, `class`, `args[2].when`. */
    readonly field?: string,
  ) {
    super(message);
  }
}

export function isWireError(err: unknown): err is WireError {
  return err instanceof WireError;
}
