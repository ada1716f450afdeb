/**
 * The admin API's one error: what was asked cannot be done on this layout (`unsupported`: a
 * set the runtime does not keep, a signal it does not take; fixing the request fixes it), or
 * nothing matched (`not_found`). The CLI maps `unsupported` to exit 2 and `not_found` to 1.
 */
export type AdminErrorCode = 'unsupported' | 'not_found';

export class AdminError extends Error {
  override readonly name = 'AdminError';
  constructor(readonly code: AdminErrorCode, message: string, readonly field?: string) {
    super(message);
  }
}
