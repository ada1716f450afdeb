/**
 * The dialects kiqgate speaks, one module each. Adding a runtime is one more module
 * implementing {@link Dialect} and one more line in DIALECTS (and, when its hashes need telling
 * apart, in DETECTION_ORDER).
 */
import type { Peer } from '../peers.js';
import type { Dialect } from './dialect.js';
import { exq } from './exq.js';
import { resque } from './resque.js';
import { sidekiq6, sidekiq7, sidekiq8 } from './sidekiq.js';
import { verk } from './verk.js';

export type * from './dialect.js';
export type * from './admin-rules.js';

/** Every dialect, in the order PEERS lists them. */
export const DIALECTS: readonly Dialect[] = [sidekiq6, sidekiq7, sidekiq8, verk, exq, resque];

/**
 * The order a parsed hash is offered to the dialects' `detects`; the first that says yes wrote
 * it. The most distinctive shapes come first (Resque's bare `{"class","args"}`, Verk's string args,
 * Exq's fields), then Sidekiq 8's
 * millisecond timestamps, Sidekiq ≤ 7.2.0's MIME backtrace, and Sidekiq 7 as the fallback.
 */
export const DETECTION_ORDER: readonly Dialect[] = [resque, verk, exq, sidekiq8, sidekiq6, sidekiq7];

const BY_PEER = new Map<Peer, Dialect>(DIALECTS.map((d) => [d.peer, d]));

/** The dialect of a peer name. */
export function dialectFor(peer: Peer): Dialect {
  const d = BY_PEER.get(peer);
  if (!d) throw new Error(`no dialect for peer ${JSON.stringify(peer)}`);
  return d;
}

/** The dialect that wrote a parsed job hash (see DETECTION_ORDER). */
export function detectedDialect(job: Readonly<Record<string, unknown>>): Dialect {
  for (const d of DETECTION_ORDER) if (d.detects(job)) return d;
  return DETECTION_ORDER[DETECTION_ORDER.length - 1]!;
}

/**
 * Whether `version` is on a release line (`6.x`: every 6.*, `1.7`: every 1.7.*); `3.0|2.7`: on
 * any of several lines (Resque 3.0 and 2.7 write the same).
 */
function onLine(version: string, lines: string): boolean {
  const have = version.split('.');
  return lines.split('|').some((line) => line.split('.').every((part, i) => part === 'x' || have[i] === part));
}

/**
 * The dialect a release writes (`sidekiq`, `8.1.7` → sidekiq8), or undefined when kiqgate does
 * not speak that system or version. `system` is the runtime's name as fixtures spell it.
 */
export function dialectOfRelease(system: string, version: string): Dialect | undefined {
  const family = system.toLowerCase();
  return DIALECTS.find((d) => d.traits.family === family && onLine(version, d.traits.versions));
}

export { exq, resque, sidekiq6, sidekiq7, sidekiq8, verk };
export { encodeBacktrace } from './failure-rules.js';
