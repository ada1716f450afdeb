/**
 * One member of `schedule`, `retry` or `dead` as an operator sees it: the fields Sidekiq's
 * SortedEntry shows, read with the rules of the dialect that wrote it, and the exact bytes any
 * action must name. A member that cannot be decoded is still listed (it can be deleted or
 * killed), with why.
 */
import {
  type AdminSetName, type DecodedJob, type Peer, WireError, asString, decodeJob, readTimestamp, stringifyJson,
} from '../wire/index.js';

/** A sorted-set entry. Times are epoch ms; absent fields are undefined. */
export interface JobEntry {
  readonly set: AdminSetName;
  /** The member exactly as stored (what ZREM must name). */
  readonly raw: Buffer;
  /** The score as Redis returned it (float seconds). */
  readonly score: string;
  /** The score in epoch ms: run time (schedule, retry) or time of death (dead). */
  readonly atMs: number;
  readonly jid: string | undefined;
  /** The job class, or for a wrapped job (ActiveJob) the class it wraps. */
  readonly className: string | undefined;
  readonly queue: string | undefined;
  /** The args as the producer wrote them (JSON text; Verk's is a JSON string). */
  readonly argsJson: string | undefined;
  readonly retryCount: number | undefined;
  readonly errorClass: string | undefined;
  readonly errorMessage: string | undefined;
  readonly failedAtMs: number | undefined;
  readonly retriedAtMs: number | undefined;
  readonly enqueuedAtMs: number | undefined;
  /** The dialect that wrote it (detected from its bytes). */
  readonly dialect: Peer | undefined;
  /** Set when the member cannot be decoded: the reason. */
  readonly undecodable: string | undefined;
  /** The decoded job (undefined when undecodable). */
  readonly job: DecodedJob | undefined;
}

/** What `--queue` and `--class` select (both must match when both are given). */
export interface EntryFilter {
  queue?: string | undefined;
  className?: string | undefined;
}

/** Whether an entry passes a filter; an undecodable entry passes only an empty one. */
export function matches(e: Pick<JobEntry, 'queue' | 'className' | 'job'>, f: EntryFilter): boolean {
  if (f.queue !== undefined && e.queue !== f.queue) return false;
  if (f.className !== undefined) {
    const cls = e.job ? asString(e.job.doc().get('class')) : undefined;
    if (e.className !== f.className && cls !== f.className) return false;
  }
  return true;
}

/** An entry from a member and its score (WITHSCORES reply). */
export function readEntry(set: AdminSetName, raw: Buffer, score: string): JobEntry {
  const atMs = Number(score) * 1000;
  let job: DecodedJob;
  try {
    job = decodeJob(raw);
  } catch (err) {
    const why = err instanceof WireError ? `${err.code}: ${err.message}` : String(err);
    return {
      set, raw, score, atMs, jid: undefined, className: undefined, queue: undefined, argsJson: undefined, retryCount: undefined,
      errorClass: undefined, errorMessage: undefined, failedAtMs: undefined, retriedAtMs: undefined, enqueuedAtMs: undefined,
      dialect: undefined, undecodable: why, job: undefined,
    };
  }
  const doc = job.doc();
  const wrapped = asString(doc.get('wrapped'));
  const args = doc.get('args');
  return {
    set, raw, score, atMs,
    jid: job.jid,
    className: wrapped ?? job.className,
    queue: job.queue,
    argsJson: args === undefined ? undefined : stringifyJson(args),
    retryCount: job.retryCount,
    errorClass: asString(doc.get('error_class')),
    errorMessage: asString(doc.get('error_message')),
    failedAtMs: readTimestamp(doc.get('failed_at')),
    retriedAtMs: readTimestamp(doc.get('retried_at')),
    enqueuedAtMs: readTimestamp(doc.get('enqueued_at')),
    dialect: job.dialect,
    undecodable: undefined,
    job,
  };
}

/** Pairs of a WITHSCORES Buffer reply: [member, score, member, score, …] → entries. */
export function readEntries(set: AdminSetName, reply: Buffer[]): JobEntry[] {
  const out: JobEntry[] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) out.push(readEntry(set, reply[i]!, reply[i + 1]!.toString()));
  return out;
}
