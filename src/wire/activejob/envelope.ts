/**
 * The ActiveJob hash inside a Sidekiq wrapper job (`args[0]`, ActiveJob::Core#serialize), read
 * with the checks Rails makes and the ones a consumer needs: `job_class` names the handler (it,
 * not `wrapped`, is what Rails constantizes), every known field has its type, later fields
 * (`scheduled_at`, `continuation`, `resumptions`, ...) are kept. Each problem is a WireError
 * naming the field (`args[0].executions`). Pure, no I/O.
 */
import type { DecodedJob } from '../decode.js';
import { WireError } from '../errors.js';
import { JsonNumber, JsonObject, type JsonValue, type NativeJson, asString, jsonTypeName, toNative } from '../json.js';
import { decodeArguments } from './arguments.js';
import type { AjValue } from './values.js';

/** Rails' adapter wrapper (≤ 8.1, and Sidekiq 7.3's subclass), and Sidekiq 8's own. */
export const RAILS_WRAPPER = 'ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper';
export const SIDEKIQ_WRAPPER = 'Sidekiq::ActiveJob::Wrapper';
export const WRAPPER_CLASSES: readonly string[] = [RAILS_WRAPPER, SIDEKIQ_WRAPPER];

/** True when a Sidekiq job's class is an ActiveJob wrapper. */
export function isActiveJobWrapper(className: string): boolean {
  return className === RAILS_WRAPPER || className === SIDEKIQ_WRAPPER;
}

/** The ActiveJob envelope, as the job's Ruby `perform` would see it before running. */
export interface ActiveJobEnvelope {
  /** The ActiveJob class (`SendInvoiceJob`): the handler's name. */
  job_class: string;
  /** ActiveJob's own id (UUID), kept across retry_on re-enqueues. */
  job_id: string;
  /** The Sidekiq jid of this run (Rails sets it from the wrapper before perform). */
  provider_job_id: string | undefined;
  /** The provider_job_id as written in the payload (null at a first enqueue; the previous jid after retry_on). */
  payload_provider_job_id: string | null;
  queue_name: string | undefined;
  priority: number | null;
  /** The runs so far, this one included (the payload's value + 1, as perform_now counts). */
  executions: number;
  /** The payload's executions (runs before this one). */
  payload_executions: number;
  /** retry_on's counters, keyed by the exception list (`"[FlakyError]"`); null when the payload had none. */
  exception_executions: Record<string, number> | null;
  locale: string | null;
  timezone: string | null;
  /** ISO 8601 (6.1: whole seconds; 7.1+: nine fraction digits). */
  enqueued_at: string | null;
  /** Rails ≥ 7.1: the scheduled time (ISO 8601) or null; undefined when the payload has no such key. */
  scheduled_at: string | null | undefined;
  /** Any other key a later Rails writes (`continuation`, `resumptions`), as written. */
  extra: Record<string, NativeJson>;
}

/** An ActiveJob job read out of its wrapper. */
export interface DecodedActiveJob {
  envelope: ActiveJobEnvelope;
  /** The deserialized arguments (values.ts). */
  arguments: AjValue[];
  /** The ActiveJob hash as written (clone before changing it). */
  hash: JsonObject;
  /** The wrapper's `wrapped`, when present. */
  wrapped: string | undefined;
}

const KNOWN = new Set([
  'job_class', 'job_id', 'provider_job_id', 'queue_name', 'priority', 'arguments', 'executions',
  'exception_executions', 'locale', 'timezone', 'enqueued_at', 'scheduled_at',
]);

const P = 'args[0]';

function fail(field: string, why: string): never {
  throw new WireError('invalid_job', `${field} ${why}`, field);
}

function optString(h: JsonObject, key: string): string | null | undefined {
  const v = h.get(key);
  if (v === undefined || v === null) return v as null | undefined;
  const s = asString(v);
  if (s === undefined) fail(`${P}.${key}`, `must be a string or null, got ${jsonTypeName(v)}`);
  return s;
}

function optInt(h: JsonObject, key: string): number | null | undefined {
  const v = h.get(key);
  if (v === undefined || v === null) return v as null | undefined;
  if (!(v instanceof JsonNumber) || !v.isInteger || !Number.isSafeInteger(v.toNumber())) fail(`${P}.${key}`, `must be an integer or null, got ${v instanceof JsonNumber ? v.raw : jsonTypeName(v)}`);
  return v.toNumber();
}

/**
 * Reads the ActiveJob layer of a wrapper job. Throws a WireError naming the field for a wrapper
 * whose `args` is not one ActiveJob hash, a missing or ill-typed field, or an argument Rails
 * could not deserialize (an unknown serializer, a GlobalID that is not a URI).
 */
export function decodeActiveJob(job: DecodedJob): DecodedActiveJob {
  const doc = job.doc();
  const args = doc.get('args');
  if (!Array.isArray(args) || args.length !== 1) fail('args', `of an ActiveJob wrapper must hold exactly one ActiveJob hash, got ${Array.isArray(args) ? `${args.length} elements` : jsonTypeName(args)}`);
  const h = args[0];
  if (!(h instanceof JsonObject)) fail(P, `must be the ActiveJob hash (an object), got ${jsonTypeName(h)}`);
  const jobClass = optString(h, 'job_class');
  if (!jobClass) fail(`${P}.job_class`, jobClass === '' ? 'must not be empty' : 'is missing: it names the ActiveJob class to run');
  const jobId = optString(h, 'job_id');
  if (typeof jobId !== 'string') fail(`${P}.job_id`, 'is missing: ActiveJob writes a UUID there');
  const executions = optInt(h, 'executions') ?? 0;
  if (executions < 0) fail(`${P}.executions`, `must not be negative, got ${executions}`);
  const ee = h.get('exception_executions');
  let exceptionExecutions: Record<string, number> | null = null;
  if (ee !== undefined && ee !== null) {
    if (!(ee instanceof JsonObject)) fail(`${P}.exception_executions`, `must be an object of counters, got ${jsonTypeName(ee)}`);
    exceptionExecutions = {};
    for (const e of ee.entries) {
      if (!(e.value instanceof JsonNumber) || !e.value.isInteger) fail(`${P}.exception_executions`, `counter ${JSON.stringify(e.key)} must be an integer, got ${jsonTypeName(e.value)}`);
      Object.defineProperty(exceptionExecutions, e.key, { value: e.value.toNumber(), enumerable: true, writable: true, configurable: true });
    }
  }
  const extra: Record<string, NativeJson> = {};
  for (const e of h.entries) if (!KNOWN.has(e.key)) Object.defineProperty(extra, e.key, { value: toNative(e.value), enumerable: true, writable: true, configurable: true });
  const scheduledAt = optString(h, 'scheduled_at');
  const envelope: ActiveJobEnvelope = {
    job_class: jobClass,
    job_id: jobId,
    provider_job_id: job.jid,
    payload_provider_job_id: optString(h, 'provider_job_id') ?? null,
    queue_name: optString(h, 'queue_name') ?? undefined,
    priority: optInt(h, 'priority') ?? null,
    executions: executions + 1,
    payload_executions: executions,
    exception_executions: exceptionExecutions,
    locale: optString(h, 'locale') ?? null,
    timezone: optString(h, 'timezone') ?? null,
    enqueued_at: optString(h, 'enqueued_at') ?? null,
    scheduled_at: h.has('scheduled_at') ? (scheduledAt ?? null) : undefined,
    extra,
  };
  const argsNode: JsonValue | undefined = h.get('arguments');
  return { envelope, arguments: decodeArguments(argsNode, `${P}.arguments`), hash: h, wrapped: asString(doc.get('wrapped')) };
}
