/**
 * What a failure entry must look like when the consumer fails a job another runtime produced.
 *
 * These are the compat suite's own statement of the references (shared/reference/*-wire.md),
 * written independently of src/wire so that the checker cannot agree with the engine by
 * construction. Each consumer family is held to what its runtime does to a foreign job:
 * - Sidekiq works on the hash as it is: every key the producer wrote is kept, in place, with its
 *   value; `queue`, `error_message`, `error_class`, `failed_at` (or `retried_at` when the hash
 *   already has a `retry_count`: Ruby's `if msg["retry_count"]`, where 0 counts) and
 *   `retry_count` are set, a key it lacked appended in that order (sidekiq-wire.md, JobRetry);
 *   a hash without `retry` first gets the worker class's option, `true` (JobRetry#local);
 * - Verk and Exq decode into their own struct and re-encode it: the entry has exactly the fields
 *   their own entries have (the consumer's captured entry shows them), the fields their structs
 *   share with the producer's hash keep the producer's values (null where it had none), and
 *   Verk writes the args back as a JSON string (verk-wire.md §2, exq-wire.md §2);
 * - Resque's Redis failure backend writes `{failed_at, payload, exception, error, backtrace,
 *   worker, queue}` with the job as its payload (resque-wire.md §6).
 */
import { JsonNumber, JsonObject, type JsonValue, asString, jsonTypeName, parseJson, stringifyJson } from '../wire/json.js';
import { timeUnitOf } from '../wire/timestamps.js';

/** Where a consumer family writes a failed job: sorted sets (retry, dead) or Resque's `failed` list. */
export type FailureDestination = 'retry' | 'dead' | 'failed';

/** The consumer families the references describe, with the destinations each may write. */
export const CONSUMER_DESTINATIONS: Readonly<Record<string, readonly FailureDestination[]>> = {
  sidekiq: ['retry', 'dead'],
  verk: ['retry', 'dead'],
  exq: ['retry', 'dead'],
  resque: ['failed'],
};

const show = (v: JsonValue | undefined) => (v === undefined ? 'absent' : stringifyJson(v).slice(0, 80));
const same = (a: JsonValue | undefined, b: JsonValue | undefined) => (a === undefined ? 'absent' : stringifyJson(a)) === (b === undefined ? 'absent' : stringifyJson(b));

function isInteger(v: JsonValue | undefined): boolean {
  return v instanceof JsonNumber && v.isInteger;
}

/** The unit of a timestamp value (`float_s`, `int_ms`, `int_s`) or its JSON type. */
function form(v: JsonValue | undefined): string {
  return v instanceof JsonNumber ? (timeUnitOf(v) ?? 'number') : jsonTypeName(v);
}

export interface ForeignFailureInput {
  /** The consumer's family (`sidekiq`, `verk`, `exq`, `resque`). */
  consumer: string;
  /** The producer's job, as it was queued. */
  job: JsonObject;
  /** The failure entry the consumer wrote for one of its own jobs (captured). */
  own: JsonObject;
  /** The entry kiqgate wrote, standing in for the consumer. */
  actual: JsonObject;
  /** The queue the job was fetched from. */
  queue: string;
}

/** Differences between kiqgate's entry and what the consumer writes for this foreign job; empty when they agree. */
export function foreignFailureDiffs(input: ForeignFailureInput): string[] {
  switch (input.consumer) {
    case 'sidekiq': return sidekiqDiffs(input);
    case 'verk': return reencodedDiffs(input, ['class', 'jid', 'queue', 'created_at', 'enqueued_at', 'max_retry_count'], true);
    case 'exq': return reencodedDiffs(input, ['args', 'class', 'jid', 'queue', 'enqueued_at', 'retry', 'processor'], false);
    case 'resque': return resqueDiffs(input);
    default: return [`no reference describes how ${input.consumer} fails a foreign job`];
  }
}

function sidekiqDiffs({ job, own, actual, queue }: ForeignFailureInput): string[] {
  const diffs: string[] = [];
  const rc = job.get('retry_count');
  const stamp = rc !== undefined && rc !== null ? 'retried_at' : 'failed_at';
  // JobRetry#local first gives a hash without `retry` (nil) the worker class's option (true).
  const set = ['retry', 'queue', 'error_message', 'error_class', stamp, 'retry_count'];
  const want = [...job.keys()];
  for (const k of set) if (!want.includes(k)) want.push(k);
  // error_backtrace is written only when the job asks for a backtrace; allow it at the end.
  const got = actual.keys().filter((k) => !(k === 'error_backtrace' && !job.has('error_backtrace')));
  if (got.join(',') !== want.join(',')) diffs.push(`keys differ: expected [${want.join(', ')}], got [${got.join(', ')}]`);
  const retry = job.get('retry');
  for (const k of job.keys()) {
    if ((set.includes(k) && !(k === 'retry' && retry !== null)) || k === 'error_backtrace') continue;
    if (!same(job.get(k), actual.get(k))) diffs.push(`${k} was not kept: producer wrote ${show(job.get(k))}, entry has ${show(actual.get(k))}`);
  }
  const retryQueue = asString(job.get('retry_queue'));
  if (asString(actual.get('queue')) !== (retryQueue ?? queue)) diffs.push(`queue is ${show(actual.get('queue'))}, expected ${JSON.stringify(retryQueue ?? queue)}`);
  if ((retry === undefined || retry === null) && actual.get('retry') !== true) diffs.push(`retry is ${show(actual.get('retry'))}, expected true (the worker option Sidekiq gives a job without one)`);
  if (!isInteger(actual.get('retry_count'))) diffs.push(`retry_count is ${show(actual.get('retry_count'))}, expected an integer`);
  const wantForm = form(own.get('failed_at'));
  if (form(actual.get(stamp)) !== wantForm) diffs.push(`${stamp} format differs: the consumer writes ${wantForm}, entry has ${form(actual.get(stamp))}`);
  for (const k of ['error_message', 'error_class']) if (typeof asString(actual.get(k)) !== 'string') diffs.push(`${k} is ${show(actual.get(k))}, expected a string`);
  return diffs;
}

/** Verk and Exq: the consumer's own field set; struct fields keep the producer's values. */
function reencodedDiffs({ job, own, actual }: ForeignFailureInput, kept: string[], argsAsString: boolean): string[] {
  const diffs: string[] = [];
  const want = own.keys();
  if (actual.keys().join(',') !== want.join(',')) diffs.push(`keys differ: expected [${want.join(', ')}], got [${actual.keys().join(', ')}]`);
  for (const k of kept) {
    if (!want.includes(k)) continue;
    const from = job.get(k) ?? null;
    if (!same(from, actual.get(k))) diffs.push(`${k} was not kept: producer wrote ${show(job.get(k))}, entry has ${show(actual.get(k))}`);
  }
  const args = job.get('args');
  const got = actual.get('args');
  if (argsAsString) {
    // Verk re-encodes the args list as a JSON string; a producer's string stays that string.
    const text = asString(got);
    const producerArgs = asString(args) !== undefined ? parseJson(asString(args)!) : args;
    if (text === undefined) diffs.push(`args is ${show(got)}, expected a JSON string (Verk's form)`);
    else if (!same(parseJson(text), producerArgs ?? [])) diffs.push(`args differ: producer wrote ${show(args)}, entry holds ${text.slice(0, 80)}`);
  }
  for (const k of want) {
    if (kept.includes(k) || k === 'args') continue;
    const o = own.get(k);
    const a = actual.get(k);
    if (k.endsWith('_at')) {
      // Written by the consumer in its own unit, or null where its own entry has null; a first
      // failure time the producer's hash already had is kept.
      const fromJob = job.get(k);
      const ok = form(a) === form(o) || (o === null && a === null) || (fromJob !== undefined && fromJob !== null && same(fromJob, a)) || (a === null && k !== 'failed_at');
      if (!ok) diffs.push(`${k} format differs: the consumer writes ${form(o)}, entry has ${form(a)}`);
    } else if (k === 'retry_count') {
      if (!isInteger(a)) diffs.push(`retry_count is ${show(a)}, expected an integer`);
    } else if (k === 'error_message' || k === 'error_backtrace') {
      if (typeof asString(a) !== 'string') diffs.push(`${k} is ${show(a)}, expected a string`);
    } else if (k === 'error_class') {
      if (a !== null && typeof asString(a) !== 'string') diffs.push(`error_class is ${show(a)}, expected null or a string`);
    } else if (jsonTypeName(a) !== jsonTypeName(o)) {
      diffs.push(`${k} type differs: the consumer writes ${jsonTypeName(o)}, entry has ${jsonTypeName(a)}`);
    }
  }
  return diffs;
}

const RESQUE_KEYS = ['failed_at', 'payload', 'exception', 'error', 'backtrace', 'worker', 'queue'];
const RESQUE_TIME = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} \S+$/;

function resqueDiffs({ job, actual, queue }: ForeignFailureInput): string[] {
  const diffs: string[] = [];
  if (actual.keys().join(',') !== RESQUE_KEYS.join(',')) diffs.push(`keys differ: expected [${RESQUE_KEYS.join(', ')}], got [${actual.keys().join(', ')}]`);
  if (!same(actual.get('payload'), job)) diffs.push(`payload is not the job as queued: ${show(actual.get('payload'))}`);
  const at = asString(actual.get('failed_at'));
  if (at === undefined || !RESQUE_TIME.test(at)) diffs.push(`failed_at is ${show(actual.get('failed_at'))}, expected Resque's "%Y/%m/%d %H:%M:%S %Z"`);
  for (const k of ['exception', 'error', 'worker']) if (asString(actual.get(k)) === undefined) diffs.push(`${k} is ${show(actual.get(k))}, expected a string`);
  if (!Array.isArray(actual.get('backtrace'))) diffs.push(`backtrace is ${show(actual.get('backtrace'))}, expected an array`);
  if (asString(actual.get('queue')) !== queue) diffs.push(`queue is ${show(actual.get('queue'))}, expected ${JSON.stringify(queue)}`);
  return diffs;
}

/** Parses an entry or job as a JSON object, or undefined. */
export function objectOf(text: string): JsonObject | undefined {
  try {
    const v = parseJson(text);
    return v instanceof JsonObject ? v : undefined;
  } catch {
    return undefined;
  }
}
