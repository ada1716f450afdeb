/**
 * The dead entry for a payload kiqgate cannot decode, and the way back to its exact bytes.
 *
 * Stored as they came, such payloads break the peers' tools: Sidekiq 6.4.1's DeadSet#each and
 * Web UI raise on valid JSON that is not a hash (`null`, `[1,2,3]`) and on hashes with ill-typed
 * fields, and an invalid-JSON entry has no jid, so its UI row links to a page that finds nothing.
 * So every undecodable payload (uniformly, whatever the reason) is wrapped in a well-formed
 * Sidekiq job hash written by kiqgate:
 *
 *   {"class":"Kiqgate::UndecodablePayload","args":[<preview>],"queue":q,"jid":<new>,"retry":0,
 *    "created_at":t,"failed_at":t,"error_class":"WireError","error_message":"<code> (<field>): <why>",
 *    "retry_count":0,"undecodable_code":..,"undecodable_field":..,"undecodable_from":"queue:q",
 *    "raw_bytes":N,"raw_base64":"<the exact bytes>"}
 *
 * - `args` is one string for the operator to read: the payload's text when it is valid UTF-8
 *   (cut after PREVIEW_CHARS characters, saying so), else a note and a lossy rendering. It is a
 *   display copy only; `raw_base64` holds the exact bytes.
 * - `retry: 0` (not false): if an operator presses Retry in a peer's UI, the job goes to its
 *   queue, fails there (no process defines the class) and, out of retries at once, comes back to
 *   dead with every field kept. `retry: false` would make Sidekiq and kiqgate drop it.
 * - `undecodable_*` keep the reason even when such a retry overwrites error_message.
 * - Timestamps are in the configured peer's unit (Sidekiq 8: integer ms); the score is float
 *   seconds, as for every dead entry.
 *
 * Pure: no I/O. {@link undecodableOriginal} returns the original bytes of such an entry.
 */
import { isUtf8 } from 'node:buffer';
import type { WireErrorCode } from './errors.js';
import { JsonNumber, JsonObject, type JsonValue, stringifyJson } from './json.js';
import { PEER_TRAITS, type Peer, newJid } from './peers.js';
import { floatSeconds, timestampToken } from './timestamps.js';
import { UNDECODABLE_CLASS } from './undecodable-class.js';

/** The class (and display name) of the dead entry wrapping an undecodable payload. */
export { UNDECODABLE_CLASS };

/** Characters of the payload's text shown in `args` (Sidekiq's list pages cut at 2,000 anyway). */
export const PREVIEW_CHARS = 2000;

/** Why the payload could not be decoded, and where it was found. */
export interface UndecodableInfo {
  /** Why it could not be read; `failure_path`: it was read, but recording its failure failed. */
  code: WireErrorCode | 'failure_path';
  message: string;
  field?: string | undefined;
  /** The queue it was fetched from (the scheduler, which cannot read it, says `default`). */
  queue: string;
  /** The key it was found in, without the namespace: `queue:<q>`, `retry` or `schedule`. */
  from: string;
}

export interface UndecodableEntry {
  /** The dead-set member. */
  payload: string;
  /** The dead-set score (float seconds). */
  scoreSeconds: string;
  jid: string;
}

/** Cuts `s` to `n` UTF-16 units without leaving half of a surrogate pair at the end. */
function cut(s: string, n: number): string {
  if (s.length <= n) return s;
  const c = s.charCodeAt(n - 1);
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? n - 1 : n);
}

/** The operator's view of the bytes: their text, or a note and a lossy rendering. */
function preview(raw: Buffer): string {
  if (!isUtf8(raw)) {
    const lossy = raw.subarray(0, PREVIEW_CHARS * 4).toString('utf8');
    return `(${raw.length} bytes, not valid UTF-8; shown with U+FFFD, exact bytes in raw_base64) ${cut(lossy, PREVIEW_CHARS)}`;
  }
  // Decoding only the head: a 10 MB payload is not turned into a 10 MB string to show 2,000 characters.
  const text = raw.subarray(0, PREVIEW_CHARS * 4).toString('utf8');
  if (raw.length <= PREVIEW_CHARS && text.length <= PREVIEW_CHARS) return text;
  const shown = cut(text, PREVIEW_CHARS);
  if (Buffer.byteLength(shown) === raw.length) return shown;
  return `${shown}… (cut: ${raw.length} bytes in all, exact bytes in raw_base64)`;
}

/** One line: messages are shown in one table cell. */
const oneLine = (s: string) => s.replace(/\s*[\r\n]+\s*/g, ' ');

/** Builds the dead entry for `raw`, which could not be decoded, at `atMs` for `peer`'s tools. */
export function undecodableEntry(raw: Buffer, info: UndecodableInfo, atMs: number, peer: Peer): UndecodableEntry {
  const unit = PEER_TRAITS[peer].timeUnit;
  const jid = newJid(peer);
  const at = timestampToken(atMs, unit);
  const why = `${info.code}${info.field ? ` (${info.field})` : ''}: ${oneLine(info.message)}`;
  const pairs: Array<[string, JsonValue]> = [
    ['class', UNDECODABLE_CLASS],
    ['args', [preview(raw)]],
    ['queue', info.queue],
    ['jid', jid],
    ['retry', new JsonNumber('0')],
    ['created_at', at],
    ['failed_at', at],
    ['error_class', 'WireError'],
    ['error_message', why],
    ['retry_count', new JsonNumber('0')],
    ['undecodable_code', info.code],
    ['undecodable_field', info.field ?? null],
    ['undecodable_from', info.from],
    ['raw_bytes', new JsonNumber(String(raw.length))],
    ['raw_base64', raw.toString('base64')],
  ];
  return { payload: stringifyJson(JsonObject.from(pairs)), scoreSeconds: floatSeconds(atMs), jid };
}

/** The bytes one wrapper holds, or undefined when `entry` is not a wrapper (or a damaged one). */
function unwrapOnce(entry: Buffer | string): Buffer | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof entry === 'string' ? entry : entry.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const d = doc as Record<string, unknown>;
  if (d.class !== UNDECODABLE_CLASS || typeof d.raw_base64 !== 'string') return undefined;
  const bytes = Buffer.from(d.raw_base64, 'base64');
  if (typeof d.raw_bytes === 'number' && d.raw_bytes !== bytes.length) return undefined;
  return bytes;
}

/** Wrappers inside wrappers unwrapped at most this deep. */
const MAX_NESTING = 32;

/**
 * The exact original bytes kept in a dead entry written by {@link undecodableEntry}, or
 * undefined when `entry` is not such an entry (or its byte count does not match: a damaged copy).
 *
 * A wrapper can hold a wrapper: when an operator retries the entry of a payload near the size
 * limit, the entry (a third larger) is itself over the limit when fetched again, and is wrapped
 * in turn. The original is the innermost payload, so wrappers are unwrapped down to it.
 *
 * ```ts
 * for (const m of await redis.zrangeBuffer('dead', 0, -1)) {
 *   const original = undecodableOriginal(m);
 *   if (original) console.log(original.length, original.toString('latin1'));
 * }
 * ```
 */
export function undecodableOriginal(entry: Buffer | string): Buffer | undefined {
  let bytes = unwrapOnce(entry);
  for (let depth = 1; bytes !== undefined && depth < MAX_NESTING; depth++) {
    const inner = unwrapOnce(bytes);
    if (inner === undefined) break;
    bytes = inner;
  }
  return bytes;
}
