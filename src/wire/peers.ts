/**
 * The peers kiqgate speaks with, and what differs between them on the wire. Each peer is a
 * dialect module under dialects/; this file names them and keeps the table of their traits
 * (PEER_TRAITS), read from the dialects themselves.
 */
import { DIALECTS, dialectFor } from './dialects/index.js';
import { WireError } from './errors.js';
import type { TimeUnit } from './timestamps.js';

/** A target or source dialect: the runtime and version that writes or reads a payload. */
export type Peer = 'sidekiq6' | 'sidekiq7' | 'sidekiq8' | 'verk' | 'exq' | 'resque';

export const PEERS: readonly Peer[] = DIALECTS.map((d) => d.peer);

export interface PeerTraits {
  /** The runtime, as fixtures name their system (`sidekiq`, `verk`, `exq`, `resque`). */
  readonly family: string;
  /**
   * The release line of that family this dialect is: leading version components, `x` for any
   * (`6.x` is every 6.*, `1.7` is every 1.7.*; `3.0|2.7`: either line). What the compat suite holds a fixture's
   * system/version to: a version outside every line is not spoken.
   */
  readonly versions: string;
  /** Unit of created_at / enqueued_at / failed_at / retried_at. */
  readonly timeUnit: TimeUnit;
  /** retry_count written on the first failure (Sidekiq 0, Verk and Exq 1). */
  readonly firstRetryCount: number;
  /** Whether an immediate push also does `SADD queues <q>` (Verk never touches `queues`). */
  readonly addsToQueuesSet: boolean;
  /** Process heartbeat period in seconds (Sidekiq's BEAT_PAUSE). */
  readonly beatSeconds: number;
  /** Name of the busy-work hash suffix (`<identity>:workers` in 6.4.0–6.4.1, `:work` after). */
  readonly workKeySuffix: string;
  /** error_backtrace Base64 style: MIME (newline every 60 chars) up to 7.2.0, strict after. */
  readonly backtraceBase64: 'mime' | 'strict' | 'text';
  /** Default dead-set limits (count kept, max age in seconds). */
  readonly deadMaxJobs: number;
  readonly deadTimeoutSeconds: number;
}

export const PEER_TRAITS: Readonly<Record<Peer, PeerTraits>> = Object.fromEntries(DIALECTS.map((d) => [d.peer, d.traits])) as Record<Peer, PeerTraits>;

export function isPeer(v: unknown): v is Peer {
  return typeof v === 'string' && (PEERS as readonly string[]).includes(v);
}

/** `v` as a Peer, or the WireError an API option names (Client, Admin: `peer must be one of ...`). */
export function checkPeer(v: unknown): Peer {
  if (!isPeer(v)) throw new WireError('invalid_option', `peer must be one of ${PEERS.join(', ')}, got ${JSON.stringify(v)}`, 'peer');
  return v;
}

/** A new job id in the peer's own shape, from a CSPRNG. */
export function newJid(peer: Peer): string {
  return dialectFor(peer).newJid();
}
