/**
 * The class name of the wrapper that keeps bytes kiqgate could not read (undecodable.ts, and
 * Resque's failed entries in dialects/resque.ts). A leaf module: dialect modules import it
 * without importing peers.ts, which reads the dialects (an import cycle a bundle evaluates in
 * the wrong order).
 */
export const UNDECODABLE_CLASS = 'Kiqgate::UndecodablePayload';
