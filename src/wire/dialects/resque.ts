/**
 * Resque 3.0 / 2.7 (issue 16): everything kiqgate knows about Resque's wire format, in one
 * pure module (no I/O). Facts: shared/reference/resque-wire.md and fixtures/resque-{3.0.0,2.7.0}.
 *
 * - Job: `{"class":"C","args":[...]}`, nothing else: no jid, no queue, no timestamps, no retry.
 *   Producers `SADD resque:queues q` + `RPUSH resque:queue:q`; workers `LPOP` (FIFO, head first).
 * - Failure: one JSON entry RPUSHed to `resque:failed` (key order failed_at, payload, exception,
 *   error, backtrace, worker, queue); no retries, no dead set.
 * - Worker registry: `workers` set, `worker:<id>` (the running job), `worker:<id>:started`,
 *   `workers:heartbeat` hash, per-worker stats; id `<host>:<pid>:<queues joined by ",">`.
 *
 * What kiqgate chooses where Resque has no rule (documented at each function):
 * - a Resque job has no id: {@link resqueJobId} derives one from the bytes, for logs and events
 *   only; it is never written into a payload;
 * - a payload Resque's worker would crash on or drop (not JSON, `null`, not an object, no class)
 *   is kept in `failed` inside a well-formed job hash ({@link undecodableFailureEntry}).
 */
import { createHash, randomBytes } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { DecodedJob, DEFAULT_MAX_PAYLOAD_BYTES, type DecodeOptions, decodeJob } from '../decode.js';
import { WireError, type WireErrorCode } from '../errors.js';
import {
  JsonNumber, JsonObject, type JsonValue, type NativeJson, asString, describe, fromNative,
  jsonTypeName, parseJson, parseObject, quoteString, stringifyJson, toNative,
} from '../json.js';
import type { KeyLayout } from '../keys.js';
import type { JobSpec, NormalizedJob } from '../normalize.js';
import { queueNameProblem } from '../queue-name.js';
import { UNDECODABLE_CLASS } from '../undecodable-class.js';
import type { FailedEntryView } from './admin-rules.js';
import type { Dialect, FailureContext, JobDraft, PushCommand } from './dialect.js';
import type { FailureOutcome } from './failure-rules.js';

/** redis-namespace's default for Resque (`Resque.redis` is `Redis::Namespace.new(:resque)`). */
export const RESQUE_NAMESPACE = 'resque';

/** Resque's heartbeat period (`Resque.heartbeat_interval`, 60 s). */
export const RESQUE_HEARTBEAT_MS = 60_000;

/** The `exception` of a failure entry that keeps a payload kiqgate could not read. */
export const RESQUE_UNDECODABLE_EXCEPTION = UNDECODABLE_CLASS;

// ---- keys -----------------------------------------------------------------------------------

/** Resque's key names under a layout (whose namespace is normally {@link RESQUE_NAMESPACE}). */
export function resqueKeys(k: KeyLayout) {
  return {
    queues: k.queues,
    queue: (q: string) => k.queue(q),
    failed: k.key('failed'),
    workers: k.key('workers'),
    worker: (id: string) => k.key(`worker:${id}`),
    workerStarted: (id: string) => k.key(`worker:${id}:started`),
    heartbeat: k.key('workers:heartbeat'),
    processed: (id?: string) => k.key(id === undefined ? 'stat:processed' : `stat:processed:${id}`),
    failedCount: (id?: string) => k.key(id === undefined ? 'stat:failed' : `stat:failed:${id}`),
  };
}
export type ResqueKeys = ReturnType<typeof resqueKeys>;

// ---- detection and reading ------------------------------------------------------------------

/**
 * True for exactly what Resque writes: an object whose only keys are a non-empty string
 * `class` and an array `args`, with no jid. Sidekiq, Verk and Exq always write a jid (and
 * more keys), so none of their jobs matches.
 */
export function isResqueShape(job: Record<string, unknown>): boolean {
  const keys = Object.keys(job);
  return keys.length === 2 && typeof job.class === 'string' && job.class !== '' && Array.isArray(job.args);
}

/** A stable id for a job that has none (Resque): the first 24 hex digits of SHA-1 of its bytes. */
export function resqueJobId(raw: Buffer | string): string {
  return createHash('sha1').update(raw).digest('hex').slice(0, 24);
}

/**
 * Resque's `constantize` on a dashed name: `hard-job` → `HardJob` (resque.rb `classify`: split on
 * `-`, capitalize each part). Other names are kept as written.
 */
export function resqueClassName(name: string): string {
  if (!name.includes('-')) return name;
  return name.split('-').map((p) => (p === '' ? '' : p[0]!.toUpperCase() + p.slice(1).toLowerCase())).join('');
}

/**
 * The handler arguments Resque's `perform(*args)` gives: an array as is; missing or `null` → [];
 * an object → its [key, value] pairs (Ruby's Hash splat: `{"a":1}` → `[["a",1]]`); any other
 * value → one argument (`"notarray"` → `["notarray"]`).
 */
export function resqueArgs(v: JsonValue | undefined): JsonValue[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  if (v instanceof JsonObject) return v.entries.map((e) => [e.key, e.value]);
  return [v];
}

/**
 * Reads one payload the way Resque's worker does (lenient: missing args, args not an array, a
 * dashed class name, extra keys), keeping the exact bytes. Throws {@link WireError} for what
 * Resque cannot run at all: not UTF-8, not JSON, not an object, no usable `class`.
 * The result's jid is {@link resqueJobId} (for logs; it is not in the payload).
 */
export function decodeResqueJob(payload: Buffer | string, opts: DecodeOptions = {}): DecodedJob {
  const raw = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const max = opts.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (max > 0 && raw.length > max) throw new WireError('too_large', `payload is ${raw.length} bytes, over the ${max}-byte limit`);
  if (!isUtf8(raw)) throw new WireError('invalid_utf8', 'payload is not valid UTF-8 text');
  const text = typeof payload === 'string' ? payload : raw.toString('utf8');
  const doc = parseJson(text); // lossless: big integers and float tokens kept; throws with the offset
  if (!(doc instanceof JsonObject)) {
    throw new WireError('invalid_job', `payload must be a JSON object with a class (a Resque job), got ${jsonTypeName(doc)}`);
  }
  const cls = asString(doc.get('class'));
  if (cls === undefined || cls === '') {
    throw new WireError('invalid_job', `class must be a non-empty string naming the job class, got ${cls === '' ? 'an empty string' : jsonTypeName(doc.get('class'))}`, 'class');
  }
  const args = resqueArgs(doc.get('args')).map(toNative) as NativeJson[];
  const fields = JSON.parse(text) as Record<string, unknown>;
  return new DecodedJob(raw, text, 'resque', ['resque'], resqueClassName(cls), args, undefined, resqueJobId(raw), false, undefined, fields);
}

// ---- producing ------------------------------------------------------------------------------

/** Options of a JobSpec that Resque's job format cannot carry, with why. */
function unsupported(key: string): string {
  if (key === 'at' || key === 'in') return `'${key}' (a scheduled job) is not supported for peer resque: Resque core has no scheduled jobs (they need the resque-scheduler gem, which kiqgate does not speak)`;
  if (key === 'retry') return "'retry' is not part of Resque's job format: Resque has no retries (a worker's class option decides; see the README)";
  if (key === 'jid') return "'jid' is not part of Resque's job format: Resque jobs have no id";
  return `option '${key}' is not part of Resque's job format (it would be dropped by the peer)`;
}

// ---- time formats ---------------------------------------------------------------------------

interface ZonedParts { y: string; mo: string; d: string; h: string; mi: string; s: string; zone: string; offset: string }

const formats = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock parts of `ms` in `timeZone` (default: the process's zone), with its abbreviation and offset. */
function zoned(ms: number, timeZone?: string): ZonedParts {
  const key = timeZone ?? '';
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      ...(timeZone ? { timeZone } : {}), hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
    });
    formats.set(key, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(ms)) p[part.type] = part.value;
  const offF = new Intl.DateTimeFormat('en-US', { ...(timeZone ? { timeZone } : {}), timeZoneName: 'longOffset' });
  const off = offF.formatToParts(ms).find((x) => x.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(off);
  return {
    y: p.year!, mo: p.month!, d: p.day!, h: p.hour!, mi: p.minute!, s: p.second!,
    // Intl names UTC "UTC" (Ruby's %Z too); a zone Intl has no English abbreviation for is
    // "GMT+1" where Ruby may say "CET".
    zone: p.timeZoneName === 'GMT' ? 'UTC' : p.timeZoneName!,
    offset: m ? `${m[1]}${m[2]}${m[3]}` : '+0000',
  };
}

/**
 * A failure's `failed_at`: Ruby's `Time.now.strftime("%Y/%m/%d %H:%M:%S %Z")` in the worker's
 * local zone (`2026/12/07 22:20:41 UTC`). The zone abbreviation is the one Node's Intl gives
 * (`UTC`, `EST`, `PDT`; `GMT+1` where Intl has no abbreviation and Ruby would say `CET`).
 */
export function formatFailedAt(ms: number, timeZone?: string): string {
  const z = zoned(ms, timeZone);
  return `${z.y}/${z.mo}/${z.d} ${z.h}:${z.mi}:${z.s} ${z.zone}`;
}

/** Ruby's `Time#to_s` in the local zone: `2026-12-07 22:20:38 +0000` (`worker:<id>:started`). */
export function formatStartedAt(ms: number, timeZone?: string): string {
  const z = zoned(ms, timeZone);
  return `${z.y}-${z.mo}-${z.d} ${z.h}:${z.mi}:${z.s} ${z.offset}`;
}

/** `Time.now.utc.iso8601`: `2026-12-07T22:20:39Z` (a running job's `run_at`). */
export function formatRunAt(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** `Time#iso8601` of Redis TIME, as the heartbeat field: `2026-12-07T22:20:38+00:00` (kiqgate writes UTC). */
export function formatHeartbeat(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}+00:00`;
}

// ---- failure entries ------------------------------------------------------------------------

/** What went wrong, for one `resque:failed` entry. */
export interface ResqueFailure {
  /** The job as it was queued: valid JSON text, embedded verbatim (never re-encoded). */
  payloadJson: string;
  exception: string;
  error: string;
  /** Stack lines; [] when there are none (as Resque writes for a crash outside the job). */
  backtrace: string[];
  /** The worker id ({@link resqueWorkerId}). */
  worker: string;
  queue: string;
  /** When, epoch ms. */
  atMs: number;
  /** The zone of `failed_at` (default: the process's local zone, as Resque's worker). */
  timeZone?: string;
}

/**
 * The entry `Resque::Failure::Redis#save` RPUSHes to `failed`, byte for byte in form:
 * `{"failed_at","payload","exception","error","backtrace","worker","queue"}`. `payload` is the
 * queued bytes themselves, so big integers and float tokens (`1.0e+20`, `-0.0`, Oj's `"0.1e17"`
 * strings) are exactly what the producer wrote.
 */
export function resqueFailureEntry(f: ResqueFailure): string {
  return `{"failed_at":${quoteString(formatFailedAt(f.atMs, f.timeZone))},"payload":${f.payloadJson},`
    + `"exception":${quoteString(f.exception)},"error":${quoteString(f.error)},`
    + `"backtrace":[${f.backtrace.map(quoteString).join(',')}],"worker":${quoteString(f.worker)},"queue":${quoteString(f.queue)}}`;
}

/** Characters of an unreadable payload's text shown in the wrapper's args. */
const PREVIEW_CHARS = 2000;

/** What could not be read, and why (from the WireError). */
export interface ResqueUndecodable {
  code: WireErrorCode | 'failure_path';
  message: string;
  field?: string | undefined;
}

/**
 * The `failed` entry for a payload kiqgate cannot run as a Resque job (not UTF-8, not JSON,
 * `null`, not an object, no class, over the size limit). Resque's worker exits on such an
 * entry and loses it (or drops `null` silently); kiqgate keeps it and goes on.
 *
 * `payload` is a well-formed Resque job hash wrapping the bytes (not the raw text as a JSON
 * string: `Resque::Failure.requeue` reads `payload['class']`/`payload['args']`, and on a String
 * `String#[]` returns a substring, so requeueing raw text containing "class" would push a junk
 * job of class "class"):
 *
 *   {"class":"Kiqgate::UndecodablePayload","args":["<text, cut at 2,000 chars>"],
 *    "raw_bytes":N,"raw_base64":"<the exact bytes>"}
 *
 * Requeueing it pushes `{"class":"Kiqgate::UndecodablePayload","args":[text]}`: every worker
 * fails that (no such class), visibly, and the original entry (kept by requeue) still holds
 * `raw_base64`. {@link resqueUndecodableOriginal} gives the bytes back; the wrapper is the same
 * one undecodable.ts writes to Sidekiq's dead set, so `undecodableOriginal(payload)` works too.
 */
export function undecodableFailureEntry(raw: Buffer, why: ResqueUndecodable, at: Omit<ResqueFailure, 'payloadJson' | 'exception' | 'error' | 'backtrace'>): string {
  const utf8 = isUtf8(raw);
  let text = raw.subarray(0, PREVIEW_CHARS * 4).toString('utf8');
  if (text.length > PREVIEW_CHARS) text = `${text.slice(0, PREVIEW_CHARS)}… (cut: ${raw.length} bytes in all, exact bytes in raw_base64)`;
  if (!utf8) text = `(${raw.length} bytes, not valid UTF-8; shown with U+FFFD, exact bytes in raw_base64) ${text}`;
  const wrapper = JsonObject.from([
    ['class', UNDECODABLE_CLASS],
    ['args', [text]],
    ['raw_bytes', new JsonNumber(String(raw.length))],
    ['raw_base64', raw.toString('base64')],
  ]);
  const error = `${why.code}${why.field ? ` (${why.field})` : ''}: ${why.message.replace(/\s*[\r\n]+\s*/g, ' ')}`;
  return resqueFailureEntry({ ...at, payloadJson: stringifyJson(wrapper), exception: RESQUE_UNDECODABLE_EXCEPTION, error, backtrace: [] });
}

/** The exact bytes an {@link undecodableFailureEntry} keeps, or undefined for any other entry. */
export function resqueUndecodableOriginal(entry: Buffer | string): Buffer | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof entry === 'string' ? entry : entry.toString('utf8'));
  } catch {
    return undefined;
  }
  const p = (doc as { payload?: Record<string, unknown> } | null)?.payload;
  if (!p || typeof p !== 'object' || p.class !== UNDECODABLE_CLASS || typeof p.raw_base64 !== 'string') return undefined;
  const bytes = Buffer.from(p.raw_base64, 'base64');
  return p.raw_bytes === bytes.length ? bytes : undefined;
}

/**
 * Backtrace lines for a failure entry: the frames before the first one of kiqgate's own job
 * runner (engine/job-runner; Resque cuts before its `lib/resque/job.rb` frame the same way).
 */
export function resqueBacktrace(lines: readonly string[], runnerMarker = 'job-runner.'): string[] {
  const i = lines.findIndex((l) => l.includes(runnerMarker));
  return (i < 0 ? lines : lines.slice(0, i)).map(String);
}

// ---- the failure list, as Resque::Failure reads and requeues it -----------------------------

/** A string field of an entry, or undefined. */
const field = (doc: JsonObject, k: string) => asString(doc.get(k));

/**
 * One `failed` entry as `Resque::Failure.all` shows it. Its id is the payload's `jid` when it
 * has one (a Sidekiq job failed by a Resque worker), else {@link resqueJobId} of the payload's
 * bytes: the id kiqgate's logs gave the job.
 */
export function failedEntryView(entry: string): FailedEntryView {
  const doc = parseObject(entry, 'failed entry');
  const payload = doc.get('payload') ?? null;
  const job = payload instanceof JsonObject ? payload : undefined;
  const jid = job ? asString(job.get('jid')) : undefined;
  return {
    id: jid ?? resqueJobId(stringifyJson(payload)),
    className: job ? asString(job.get('class')) : undefined,
    queue: field(doc, 'queue'),
    argsJson: stringifyJson(job?.get('args') ?? null),
    failedAt: field(doc, 'failed_at'),
    exception: field(doc, 'exception'),
    error: field(doc, 'error'),
    worker: field(doc, 'worker'),
    retriedAt: field(doc, 'retried_at'),
  };
}

/**
 * `Resque::Failure.requeue` (failure/redis.rb): the entry stays in `failed` with `retried_at`
 * (3.0's format, `%Y/%m/%d %H:%M:%S %Z`) set in place or appended, and
 * `Job.create(queue, payload['class'], *payload['args'])` pushes a fresh `{"class","args"}` to
 * the entry's queue (other payload keys are not carried, as in Resque). Values are written with
 * the tokens they had.
 */
export function requeueFailure(entry: string, nowMs: number): { entry: string; payload: string; queue: string } {
  const doc = parseObject(entry, 'failed entry');
  const payload = doc.get('payload');
  const cls = payload instanceof JsonObject ? asString(payload.get('class')) : undefined;
  if (cls === undefined || cls === '') throw new WireError('invalid_job', 'the failed entry has no payload class to requeue', 'payload.class');
  const queue = field(doc, 'queue');
  if (queue === undefined || queueNameProblem(queue) !== undefined) throw new WireError('invalid_job', `the failed entry's queue cannot be used: ${JSON.stringify(queue ?? null)}`, 'queue');
  doc.set('retried_at', formatFailedAt(nowMs));
  const job = JsonObject.from([['class', cls], ['args', resqueArgs((payload as JsonObject).get('args'))]]);
  return { entry: stringifyJson(doc), payload: stringifyJson(job), queue };
}

// ---- worker registry ------------------------------------------------------------------------

/** Resque's worker id: `<hostname>:<pid>:<queues joined by ",">` (worker.rb `to_s`). */
export function resqueWorkerId(hostname: string, pid: number, queues: readonly string[]): string {
  return `${hostname}:${pid}:${queues.join(',')}`;
}

/** One Redis command: name and arguments (the I/O side sends them, pipelined). */
export type Command = [name: string, ...args: string[]];

/** Start (worker.rb startup): HDEL the heartbeat field, SADD workers, SET `:started` (Time#to_s). */
export function registerPlan(k: ResqueKeys, id: string, nowMs: number, timeZone?: string): Command[] {
  return [
    ['hdel', k.heartbeat, id],
    ['sadd', k.workers, id],
    ['set', k.workerStarted(id), formatStartedAt(nowMs, timeZone)],
  ];
}

/** The heartbeat: HSET workers:heartbeat <id> <iso8601 of Redis TIME>. */
export function heartbeatPlan(k: ResqueKeys, id: string, redisNowMs: number): Command[] {
  return [['hset', k.heartbeat, id, formatHeartbeat(redisNowMs)]];
}

/**
 * `worker:<id>` while a job runs: `{"queue","run_at","payload"}`, the payload verbatim (its bytes
 * are valid JSON: only a decoded job is announced).
 */
export function workingValue(queue: string, runAtMs: number, payloadJson: string): string {
  return `{"queue":${quoteString(queue)},"run_at":${quoteString(formatRunAt(runAtMs))},"payload":${payloadJson}}`;
}

/** Unregister (data_store.rb): SREM workers, DEL worker:<id> and :started, HDEL heartbeat, DEL per-worker stats. */
export function unregisterPlan(k: ResqueKeys, id: string): Command[] {
  return [
    ['srem', k.workers, id],
    ['del', k.worker(id)],
    ['del', k.workerStarted(id)],
    ['hdel', k.heartbeat, id],
    ['del', k.processed(id)],
    ['del', k.failedCount(id)],
  ];
}


// ---- the dialect ----------------------------------------------------------------------------

/**
 * `Resque.enqueue_to`'s hash for a validated draft: `{"class","args"}`. Every option Resque's
 * format cannot carry (`at`/`in`, `retry`, `jid`, any other key) is refused naming the field.
 */
function writeResqueJob(d: JobDraft): JsonObject {
  for (const k of Object.keys(d.spec)) {
    if (k === 'class' || k === 'args' || k === 'queue' || d.spec[k] === undefined) continue;
    throw new WireError('invalid_option', unsupported(k), k);
  }
  return JsonObject.from([['class', d.className], ['args', d.args]]);
}

/**
 * What `Resque::Failure::Redis#save` RPUSHes to `failed` for a failure of `job`, whoever
 * produced it: Resque's worker runs any hash with a class, and its failure backend embeds the
 * queued payload verbatim (a Sidekiq or Verk job's bytes are kept exactly as they came).
 */
function resqueFailure(job: DecodedJob, ctx: FailureContext): FailureOutcome {
  const { info } = ctx;
  const entry = resqueFailureEntry({
    payloadJson: job.text, exception: info.errorClass, error: info.errorMessage,
    backtrace: resqueBacktrace(info.backtrace ?? info.stack ?? []), worker: ctx.policy.worker ?? '',
    queue: ctx.fetchedQueue, atMs: ctx.nowMs,
  });
  return { kind: 'failed-list', payload: entry, retryCount: 0 };
}

/** Resque 3.0 / 2.7 as a {@link Dialect}: the producer's and the consumer's side of the rules above. */
export const resque: Dialect = {
  peer: 'resque',
  // Resque jobs carry no timestamps, retries or jid: timeUnit/firstRetryCount/backtraceBase64
  // and the dead limits only apply to what kiqgate writes in its own wrappers.
  traits: {
    family: 'resque', versions: '3.0|2.7', timeUnit: 'float_s', firstRetryCount: 0, addsToQueuesSet: true,
    beatSeconds: RESQUE_HEARTBEAT_MS / 1000, workKeySuffix: ':work', backtraceBase64: 'strict', deadMaxJobs: 10_000, deadTimeoutSeconds: 15_552_000,
  },
  candidates: ['resque'],
  defaultNamespace: RESQUE_NAMESPACE,
  // Producers RPUSH, workers LPOP: FIFO from the head.
  queueEnds: { push: 'tail', pop: 'head' },
  deadLimits: { maxJobs: 10_000, timeoutSeconds: 15_552_000 },
  schemas: { written: 'job.resque', readable: 'job.resque' },
  processRegistry: { kind: 'resque-workers' },
  pastScheduleEnqueuesNow: false,
  retryField: 'retry',
  pushesThroughScript: false,
  inProcessRetries: true,
  tracing: { system: 'resque', contextInJob: false },
  // Resque::Failure: no retry/schedule/dead sets, the `failed` list (requeue keeps the entry);
  // workers take signals from the OS (QUIT, TERM, USR2 to the pid), never through Redis.
  admin: {
    sets: [],
    failedList: { key: (keys) => resqueKeys(keys).failed, view: failedEntryView, requeue: requeueFailure },
    retryNowPayload: (job) => job.text,
    enqueuedAtMs: () => undefined, // a Resque job carries no timestamp
    deadScore: (ms) => String(ms / 1000),
    processes: {
      kind: 'resque-workers',
      set: (keys) => resqueKeys(keys).workers,
      working: (keys, id) => resqueKeys(keys).worker(id),
      started: (keys, id) => resqueKeys(keys).workerStarted(id),
      heartbeat: (keys) => resqueKeys(keys).heartbeat,
      noSignals: 'Resque workers take signals from the OS, not Redis: kill -USR2 <pid> pauses one, kill -QUIT <pid> stops it after its job',
    },
  },
  // Exactly `{"class","args"}` (no jid): Sidekiq, Verk and Exq always write a jid and more keys.
  detects: (job) => isResqueShape(job),
  // Resque jobs have no id; this one only names kiqgate's own wrappers (never a Resque job).
  newJid: () => createHash('sha1').update(randomBytes(16)).digest('hex').slice(0, 24),
  derivedJid: (payload) => resqueJobId(payload),
  writeJob: writeResqueJob,
  specFromJob(doc) {
    const args = doc.get('args');
    return { class: asString(doc.get('class')) ?? '', args: Array.isArray(args) ? args : [] };
  },
  // enqueue_to, per job in order: SADD queues <q>, RPUSH queue:<q> <json>. Resque core has no
  // scheduled jobs: writeJob refuses at/in, so no job here has a run time.
  pushPlan(jobs, keys) {
    const out: PushCommand[] = [];
    for (const j of jobs) {
      if (j.runAtMs !== undefined) throw new WireError('invalid_option', unsupported('at'), 'at');
      out.push({ name: 'sadd', key: keys.queues, args: [j.queue] }, { name: 'rpush', key: keys.queue(j.queue), args: [j.payload] });
    }
    return out;
  },
  failure: resqueFailure,
  unreadable(raw, why, ctx) {
    return { kind: 'failed-list', payload: undecodableFailureEntry(raw, why, { worker: ctx.policy.worker ?? '', queue: ctx.fetchedQueue, atMs: ctx.nowMs }), retryCount: 0 };
  },
  // Resque's worker runs any hash with a class, its args splatted. Where the producer's dialect
  // reads the args otherwise (Verk's JSON string), that reading wins, as for every consumer
  // (a job's args are what its producer meant); for array args the two agree.
  read(raw, opts) {
    try {
      const job = decodeJob(raw, opts);
      if (job.dialect !== 'resque' && !Array.isArray(job.fields.args)) return job;
    } catch {
      // not a well-formed job of any dialect: Resque's worker still runs it if it has a class
    }
    return decodeResqueJob(raw, opts);
  },
  promotedPayload: (job) => job.text, // never called: Resque has no schedule or retry set
};
