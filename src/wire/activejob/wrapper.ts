/**
 * What `perform_later` pushes: the Sidekiq wrapper job around an ActiveJob hash, for a target
 * Rails/Sidekiq pair, and the new job ActiveJob's `retry_on` pushes after a rescued failure.
 *
 * Rails 6.1 + Sidekiq 6.4 (the default, captured in fixtures/activejob-6.1-sidekiq-6.4.1): the
 * adapter calls `Sidekiq::Client.push("class" => JobWrapper, "wrapped" => ..., "queue" => ...,
 * "args" => [hash])`, JobWrapper's defaults merge first, so the keys are `retry, queue, class,
 * wrapped, args, jid, created_at, enqueued_at` (no enqueued_at when scheduled). Rails ≥ 7.1 and
 * Sidekiq's own adapter push through `Wrapper.set(wrapped:, queue:).perform_async`, so the keys
 * are `retry, queue, wrapped, args, class, ...` and a past `at` is pushed at once (read from
 * source, not captured). Sidekiq 8 writes `Sidekiq::ActiveJob::Wrapper` and integer-ms times.
 * Pure, no I/O.
 */
import { WireError } from '../errors.js';
import { JsonNumber, JsonObject, type JsonValue, stringifyJson } from '../json.js';
import type { NormalizedJob } from '../normalize.js';
import { PEER_TRAITS, type Peer } from '../peers.js';
import { isEpochMilliseconds, timestampToken } from '../timestamps.js';
import { randomHex } from '../dialects/random.js';
import { type ArgumentFeatures, encodeArguments } from './arguments.js';
import type { DecodedActiveJob } from './envelope.js';
import { RAILS_WRAPPER, SIDEKIQ_WRAPPER } from './envelope.js';
import { randomUUID } from 'node:crypto';

/** A Rails/Sidekiq pair to write for: `rails-6.1/sidekiq-6` (default), `rails-7.1/sidekiq-7`, `rails-8.1/sidekiq-8`... */
export type ActiveJobTargetName = `rails-${number}.${number}/sidekiq-${6 | 7 | 8}`;

export const DEFAULT_ACTIVEJOB_TARGET: ActiveJobTargetName = 'rails-6.1/sidekiq-6';

/** What a target writes, derived from its versions. */
export interface ActiveJobTarget extends ArgumentFeatures {
  name: string;
  /** The Sidekiq dialect of the wrapper job. */
  peer: Peer;
  wrapperClass: string;
  /** Pushed through `Wrapper.set(...).perform_async` (Rails ≥ 7.1, Sidekiq's adapter): its key order, and a past `at` runs now. */
  setter: boolean;
  /** Rails ≥ 7.1: `enqueued_at` with nine fraction digits, and a `scheduled_at` key. */
  scheduledAt: boolean;
}

/** Reads a target name; a WireError naming `target` when it is not one. */
export function activeJobTarget(name: string = DEFAULT_ACTIVEJOB_TARGET): ActiveJobTarget {
  const m = /^rails-(\d+)\.(\d+)\/sidekiq-(6|7|8)$/.exec(name);
  const rails = m ? Number(m[1]) * 100 + Number(m[2]) : 0;
  if (!m || rails < 601 || rails > 801) {
    throw new WireError('invalid_option', `target must name a Rails 6.1-8.1 and Sidekiq 6-8 pair, e.g. rails-6.1/sidekiq-6 or rails-7.1/sidekiq-7, got ${JSON.stringify(name)}`, 'target');
  }
  const sidekiq = Number(m[3]);
  if (sidekiq === 8 && rails < 700) throw new WireError('invalid_option', `target ${name}: Sidekiq 8's ActiveJob adapter needs Rails 7.0 or later`, 'target');
  return {
    name,
    peer: sidekiq === 6 ? 'sidekiq6' : sidekiq === 7 ? 'sidekiq7' : 'sidekiq8',
    wrapperClass: sidekiq === 8 ? SIDEKIQ_WRAPPER : RAILS_WRAPPER,
    setter: rails >= 701 || sidekiq === 8,
    scheduledAt: rails >= 701,
    range: rails >= 700,
    bigDecimalSerializer: rails >= 702,
    timeZoneField: rails >= 701,
  };
}

/** What a caller enqueues for an ActiveJob worker. */
export interface ActiveJobSpec {
  /** The ActiveJob class (`SendInvoiceJob`). */
  activeJob: string;
  /** The perform arguments (values.ts; plain objects are String-key Hashes, `aj.kwargs(...)` keyword arguments). */
  args?: unknown[];
  /** queue_name (default `default`). */
  queue?: string;
  /** Run at this time: a Date, or epoch seconds (or ms above 1e11). */
  at?: Date | number;
  /** Run after this many seconds. */
  in?: number;
  /** ActiveJob's priority (Sidekiq ignores it). */
  priority?: number | null;
  /** `locale` (default `en`). */
  locale?: string;
  /** `timezone` (default `UTC`, the zone of a default Rails app). */
  timezone?: string | null;
  /** The Rails/Sidekiq pair the worker runs (default `rails-6.1/sidekiq-6`). */
  target?: string;
}

/** Ruby's Time#iso8601 (whole seconds) or iso8601(9) in UTC. */
function isoUtc(ms: number, nine: boolean): string {
  const s = new Date(Math.floor(ms)).toISOString();
  if (!nine) return s.replace(/\.\d{3}Z$/, 'Z');
  const frac = ms - Math.floor(ms / 1000) * 1000;
  const ns = String(Math.round(frac * 1e6)).padStart(9, '0').slice(0, 9);
  return s.replace(/\.\d{3}Z$/, `.${ns}Z`);
}

function runAt(spec: ActiveJobSpec, nowMs: number): number | undefined {
  if (spec.at !== undefined && spec.in !== undefined) throw new WireError('invalid_option', "give either 'at' or 'in', not both", 'at');
  if (spec.in !== undefined) {
    if (typeof spec.in !== 'number' || !Number.isFinite(spec.in)) throw new WireError('invalid_option', `in must be a number of seconds, got ${typeof spec.in}`, 'in');
    return nowMs + spec.in * 1000;
  }
  if (spec.at === undefined) return undefined;
  const ms = spec.at instanceof Date ? spec.at.getTime() : typeof spec.at === 'number' && Number.isFinite(spec.at) ? (isEpochMilliseconds(spec.at) ? spec.at : spec.at * 1000) : NaN;
  if (Number.isNaN(ms)) throw new WireError('invalid_option', 'at must be a valid Date or an epoch timestamp (number)', 'at');
  return ms;
}

/** The Sidekiq wrapper job around `hash`, keys in the target's order. */
function wrapperDoc(t: { wrapperClass: string; setter: boolean; peer: Peer }, jobClass: string, queue: string, hash: JsonObject, jid: string, nowMs: number, scheduled: boolean): JsonObject {
  const unit = PEER_TRAITS[t.peer].timeUnit;
  const doc = JsonObject.from([['retry', true], ['queue', queue]]);
  if (t.setter) doc.set('wrapped', jobClass).set('args', [hash]).set('class', t.wrapperClass);
  else doc.set('class', t.wrapperClass).set('wrapped', jobClass).set('args', [hash]);
  doc.set('jid', jid).set('created_at', timestampToken(nowMs, unit));
  if (!scheduled) doc.set('enqueued_at', timestampToken(nowMs, unit));
  return doc;
}

const QUEUE_NAME = /^[^\s,:]{1,200}$/;

/**
 * The job `perform_later` would push for `spec` at `nowMs` (validated; a WireError naming the
 * field otherwise). `jobId` is ActiveJob's UUID (the Sidekiq jid is `jid`).
 */
export function activeJobPush(spec: ActiveJobSpec, nowMs: number): NormalizedJob & { jobId: string } {
  if (typeof spec.activeJob !== 'string' || !/^[A-Z]\w*(::[A-Z]\w*)*$/.test(spec.activeJob)) {
    throw new WireError('invalid_job', `activeJob must be a Ruby class name (SendInvoiceJob, Billing::InvoiceJob), got ${JSON.stringify(spec.activeJob)}`, 'activeJob');
  }
  const t = activeJobTarget(spec.target);
  const queue = spec.queue ?? 'default';
  if (typeof queue !== 'string' || !QUEUE_NAME.test(queue)) throw new WireError('invalid_option', `queue must be 1 to 200 characters without whitespace, ',' or ':', got ${JSON.stringify(queue)}`, 'queue');
  const priority = spec.priority ?? null;
  if (priority !== null && !Number.isSafeInteger(priority)) throw new WireError('invalid_option', `priority must be an integer or null, got ${String(priority)}`, 'priority');
  let at = runAt(spec, nowMs);
  if (at !== undefined && t.setter && at <= nowMs) at = undefined; // Setter#at: a past time is pushed now
  const args = encodeArguments(spec.args ?? [], t);
  const jobId = randomUUID();
  const hash = JsonObject.from([
    ['job_class', spec.activeJob],
    ['job_id', jobId],
    ['provider_job_id', null],
    ['queue_name', queue],
    ['priority', priority === null ? null : new JsonNumber(String(priority))],
    ['arguments', args],
    ['executions', new JsonNumber('0')],
    ['exception_executions', new JsonObject()],
    ['locale', spec.locale ?? 'en'],
    ['timezone', spec.timezone === undefined ? 'UTC' : spec.timezone],
    ['enqueued_at', isoUtc(nowMs, t.scheduledAt)],
  ]);
  if (t.scheduledAt) hash.set('scheduled_at', at === undefined ? null : isoUtc(at, true));
  const jid = randomHex(24);
  const doc = wrapperDoc(t, spec.activeJob, queue, hash, jid, nowMs, at !== undefined);
  return { peer: t.peer, queue, jid, jobId, payload: stringifyJson(doc), doc, ...(at !== undefined ? { runAtMs: at } : {}) };
}

/** The changes retry_on makes to the job before it re-enqueues it. */
export interface RetryOnChange {
  /** The exception_executions key (`"[FlakyError]"`) and its new count. */
  counterKey: string;
  counter: number;
  /** When the new job runs (epoch ms). */
  runAtMs: number;
  /** retry_on's `queue:` / `priority:` options, when given. */
  queue?: string | undefined;
  priority?: number | undefined;
}

/**
 * The new Sidekiq job retry_on pushes (ActiveJob's retry_job → enqueue → the adapter's
 * enqueue_at): a new jid, the same job_id, `provider_job_id` the jid of the run that failed,
 * `executions` counting that run, the counter incremented, `enqueued_at` re-stamped; into
 * `schedule` (6.1's adapter always pushes with `at`). The arguments are kept as written.
 */
export function retryOnPush(aj: DecodedActiveJob, wrapper: { className: string; jid: string | undefined; peer: Peer; setter: boolean }, change: RetryOnChange, nowMs: number): NormalizedJob {
  const h = aj.hash.clone();
  const queue = change.queue ?? aj.envelope.queue_name ?? 'default';
  h.set('provider_job_id', wrapper.jid ?? null);
  if (change.queue !== undefined) h.set('queue_name', change.queue);
  if (change.priority !== undefined) h.set('priority', new JsonNumber(String(change.priority)));
  h.set('executions', new JsonNumber(String(aj.envelope.executions)));
  const counters = h.get('exception_executions');
  const ee = counters instanceof JsonObject ? counters : new JsonObject();
  ee.set(change.counterKey, new JsonNumber(String(change.counter)));
  h.set('exception_executions', ee);
  const old = aj.envelope.enqueued_at;
  const nine = typeof old === 'string' && /\.\d+Z$/.test(old);
  h.set('enqueued_at', isoUtc(nowMs, nine));
  if (h.has('scheduled_at')) h.set('scheduled_at', isoUtc(change.runAtMs, true));
  // Always into `schedule`, as 6.1's adapter pushes; a later Setter would push a past time to the
  // queue at once, which the scheduler does within its poll interval here.
  const at = Math.max(change.runAtMs, nowMs);
  const jid = randomHex(24);
  const doc = wrapperDoc({ wrapperClass: wrapper.className, setter: wrapper.setter, peer: wrapper.peer }, aj.envelope.job_class, queue, h, jid, nowMs, true);
  return { peer: wrapper.peer, queue, jid, payload: stringifyJson(doc), doc, runAtMs: at };
}

/** True when a wrapper payload was pushed through Sidekiq's Setter (`wrapped` written before `class`). */
export function pushedThroughSetter(doc: JsonObject): boolean {
  const keys = doc.keys();
  const w = keys.indexOf('wrapped');
  return w >= 0 && w < keys.indexOf('class');
}

export type { JsonValue };
