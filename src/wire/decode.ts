/**
 * decode: raw payload bytes → a job, with the exact bytes kept.
 *
 * A job kiqgate did not create is bytes, not an object: `raw` is what Redis holds and what an
 * ack (LREM) or a move (ZREM) must name. The parsed fields are for running the job; the
 * lossless document (`doc()`) is for re-encoding it (a retry entry) without altering any value
 * the peer wrote. The fast path uses JSON.parse; the lossless parser runs only when a value
 * JSON.parse would change is present (an integer beyond 2^53) or a re-encode is asked for.
 */
import { isUtf8 } from 'node:buffer';
import { detectedDialect } from './dialects/index.js';
import { WireError } from './errors.js';
import { DEFAULT_MAX_DEPTH, type JsonObject, type NativeJson, asString, parseJson, parseObject, toNative } from './json.js';
import type { Peer } from './peers.js';
import { type ReadableJob, validateJobShape } from './schemas.js';
import { readTimestamp } from './timestamps.js';

/** Default payload size limit for fetch and enqueue (bytes). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;

export interface DecodeOptions {
  /** Reject payloads larger than this many bytes (default 8 MiB; 0 disables). */
  maxBytes?: number;
}

/** The Sidekiq meaning of a job's retry setting: true (default max), false (drop), or a max count. */
export type RetrySetting = boolean | number;

/** A decoded job: the fields a runner needs, plus the exact bytes and a lossless document. */
export class DecodedJob {
  private _doc: JsonObject | undefined;

  constructor(
    /** The exact bytes as stored in Redis. */
    readonly raw: Buffer,
    /** `raw` as UTF-8 text. */
    readonly text: string,
    /** The peer that most likely wrote it. */
    readonly dialect: Peer,
    /** Every peer that could have written it. */
    readonly candidates: Peer[],
    readonly className: string,
    /** Handler arguments: Sidekiq's array, or Verk's string decoded; big integers as BigInt. */
    readonly args: NativeJson[],
    /** The queue named in the payload, if any. */
    readonly queue: string | undefined,
    readonly jid: string | undefined,
    /** Sidekiq's `retry`, or Verk's `max_retry_count` as a number; undefined when absent. */
    readonly retry: RetrySetting | undefined,
    /** `retry_count` after the last failure, undefined for a job that never failed. */
    readonly retryCount: number | undefined,
    /** The plain JSON.parse result (numbers may be rounded; use doc() to re-encode). */
    readonly fields: Readonly<Record<string, unknown>>,
  ) {}

  /** The lossless document of the payload (parsed once; clone it before changing it). */
  doc(): JsonObject {
    this._doc ??= parseObject(this.text);
    return this._doc;
  }

  /** A timestamp field in epoch ms, whatever unit the peer wrote it in. */
  timestamp(field: 'created_at' | 'enqueued_at' | 'failed_at' | 'retried_at'): number | undefined {
    return readTimestamp(this.doc().get(field));
  }
}

/** Describes a JS value's JSON type for error messages. */
function typeName(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

interface Scan {
  /** An integer JSON.parse could not represent exactly (beyond 2^53) is present. */
  unsafeInteger: boolean;
  /** Containers nest deeper than the lossless parser accepts (so doc() would fail later). */
  tooDeep: boolean;
}

/**
 * One walk over a JSON.parse result. The recursion stops at the depth limit, so a payload nested
 * 100,000 levels deep is refused, not a RangeError. Depth counts containers as the lossless
 * parser does (the job hash itself is level 1).
 */
function scan(root: unknown, maxDepth = DEFAULT_MAX_DEPTH): Scan {
  const out: Scan = { unsafeInteger: false, tooDeep: false };
  const walk = (v: unknown, depth: number): void => {
    if (typeof v === 'number') {
      if (!out.unsafeInteger && Number.isInteger(v) && !Number.isSafeInteger(v)) out.unsafeInteger = true;
      return;
    }
    if (v === null || typeof v !== 'object' || out.tooDeep) return;
    if (depth > maxDepth) {
      out.tooDeep = true;
      return;
    }
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) walk(v[i], depth + 1);
    else for (const k in v) walk((v as Record<string, unknown>)[k], depth + 1);
  };
  walk(root, 1);
  return out;
}

const SIDEKIQ_TIME_FIELDS = ['created_at', 'enqueued_at', 'failed_at', 'retried_at'] as const;

/**
 * True when a Sidekiq-dialect job certainly fits job.sidekiq's readable view: the same checks as
 * that schema (class a non-empty string, args an array, queue/jid strings, retry_count an
 * integer or null, timestamps a number, string or null, anything else allowed), written out so
 * the common job skips the schema validator (and its ~200 ms first compile). False sends the
 * job to the validator, which gives the exact error (or accepts it).
 */
function plainSidekiqJob(job: Record<string, unknown>): boolean {
  const cls = job.class;
  if (typeof cls !== 'string' || cls.length === 0 || !Array.isArray(job.args)) return false;
  const { queue, jid, retry_count: retryCount } = job;
  if ((queue !== undefined && typeof queue !== 'string') || (jid !== undefined && typeof jid !== 'string')) return false;
  if (retryCount !== undefined && retryCount !== null && !Number.isInteger(retryCount)) return false;
  for (const f of SIDEKIQ_TIME_FIELDS) {
    const v = job[f];
    if (v !== undefined && v !== null && typeof v !== 'number' && typeof v !== 'string') return false;
  }
  return true;
}

/** Reads args (a JSON array, or Verk's JSON string holding one) as handler values. */
function decodeArgs(job: ReadableJob[Peer], text: string, unsafeInteger: boolean): NativeJson[] {
  const args: unknown = job.args;
  if (Array.isArray(args)) {
    if (!unsafeInteger) return args as NativeJson[];
    const exact = parseObject(text).get('args');
    return toNative(exact ?? null) as NativeJson[];
  }
  if (typeof args === 'string') {
    let inner: unknown;
    try {
      inner = JSON.parse(args);
    } catch {
      throw new WireError('invalid_job', `args is a string but not JSON (Verk stores the argument array as a JSON string): ${JSON.stringify(args.slice(0, 60))}`, 'args');
    }
    if (!Array.isArray(inner)) throw new WireError('invalid_job', `args must be an array (or Verk's JSON string holding one), got a string holding ${typeName(inner)}`, 'args');
    const inside = scan(inner);
    if (inside.tooDeep) throw new WireError('invalid_job', `args is a JSON string nested deeper than ${DEFAULT_MAX_DEPTH} levels`, 'args');
    return inside.unsafeInteger ? (toNative(parseJson(args)) as NativeJson[]) : (inner as NativeJson[]);
  }
  throw new WireError('invalid_job', `args must be an array, got ${typeName(args)}`, 'args');
}

/**
 * Decodes one payload. Throws {@link WireError} naming what is wrong: not UTF-8, not JSON, not
 * an object, `class` missing or not a string, `args` not an array, `queue`/`jid`/`retry` of the
 * wrong type, or over the size limit.
 */
export function decodeJob(payload: Buffer | string, opts: DecodeOptions = {}): DecodedJob {
  const raw = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const max = opts.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (max > 0 && raw.length > max) {
    throw new WireError('too_large', `payload is ${raw.length} bytes, over the ${max}-byte limit`);
  }
  if (!isUtf8(raw)) throw new WireError('invalid_utf8', 'payload is not valid UTF-8 text');
  const text = typeof payload === 'string' ? payload : raw.toString('utf8');

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parseJson(text); // throws a WireError that says where and why
    throw new WireError('invalid_json', 'payload is not valid JSON'); // unreachable in practice
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new WireError('invalid_job', `payload must be a JSON object (a job hash), got ${typeName(parsed)}`);
  }
  const job = parsed as Record<string, unknown>;
  const found = scan(job);
  // JSON.parse has no depth limit; refuse here what doc() would refuse later (when a failure
  // entry is built), with the lossless parser's message and offset.
  if (found.tooDeep) {
    parseJson(text);
    throw new WireError('invalid_json', `payload is nested deeper than ${DEFAULT_MAX_DEPTH} levels`);
  }
  const d = detectedDialect(job);
  const dialect = d.peer;
  // The detected peer's readable schema: class, args, queue, jid, retry_count, Verk's
  // max_retry_count and the timestamps, each with a message naming the field.
  const bad = d.schemas.readable === 'job.sidekiq' && plainSidekiqJob(job) ? null : validateJobShape(dialect, job, 'readable');
  if (bad) throw new WireError('invalid_job', bad.message, bad.field);
  const shape = job as ReadableJob[Peer];
  const args = decodeArgs(shape, text, found.unsafeInteger);

  let retry: RetrySetting | undefined;
  const r = job[d.retryField];
  if (r === null || r === undefined) retry = undefined;
  else if (typeof r === 'boolean') retry = r;
  else if (typeof r === 'number' && Number.isInteger(r) && r >= 0) retry = r;
  else retry = true; // Sidekiq: any other truthy value (e.g. the string "5") means the default maximum
  const retryCount = typeof shape.retry_count === 'number' ? shape.retry_count : undefined;

  return new DecodedJob(raw, text, dialect, [...d.candidates], shape.class, args, shape.queue as string | undefined, shape.jid as string | undefined, retry, retryCount, job);
}

/** The class name of a payload even when it fails to decode fully (for error reports), or undefined. */
export function peekClass(text: string): string | undefined {
  try {
    const v = parseObject(text).get('class');
    return asString(v);
  } catch {
    return undefined;
  }
}
