/**
 * Compares two job payloads by shape: the same keys in the same order, the same JSON types,
 * timestamps in the same unit and format, ids of the same form, and equal values where a value
 * is not random. Used by the fixture replays ("does kiqgate write what the peer writes?").
 */
import { JsonNumber, JsonObject, JsonString, type JsonValue, jsonTypeName, parseJson, stringifyJson } from '../wire/json.js';
import { isEpochMilliseconds, timeUnitOf } from '../wire/timestamps.js';

/** Fields whose values differ run to run: compared by format only. */
const RANDOM_FIELDS = new Set(['jid', 'created_at', 'enqueued_at', 'failed_at', 'retried_at', 'error_backtrace', 'error_message', 'processor', 'finished_at']);

const JID_FORMS: Array<[string, RegExp]> = [
  ['24 hex', /^[0-9a-f]{24}$/],
  ['decimal digits', /^\d{2,20}$/],
  ['uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/],
];

function jidForm(v: JsonValue | undefined): string {
  const s = typeof v === 'string' ? v : v instanceof JsonString ? v.value : undefined;
  if (s === undefined) return jsonTypeName(v);
  return JID_FORMS.find(([, re]) => re.test(s))?.[0] ?? 'other string';
}

/** The format of a timestamp-ish value: `float_s`, `int_ms`, `int_s`, `null`, or its JSON type. */
function timeForm(v: JsonValue | undefined): string {
  if (v instanceof JsonNumber) return timeUnitOf(v)!;
  return jsonTypeName(v);
}

/**
 * The unit of a zset score. Redis stores a score as a double, so `1795881061` and `1795881061.0`
 * are the same score; what matters to a peer is seconds vs milliseconds.
 */
export function scoreForm(score: string | number): string {
  const n = Number(score);
  if (!Number.isFinite(n)) return `not a number (${score})`;
  return isEpochMilliseconds(n) ? 'milliseconds' : 'seconds';
}

export interface ShapeOptions {
  /** Fields not compared at all. */
  ignore?: ReadonlySet<string>;
  /** Fields compared by type only (their values are the run's own, e.g. an error's class). */
  typeOnly?: ReadonlySet<string>;
  /** false: compare the field *set* (a peer that re-encodes, like Verk's cjson mover, reorders). */
  ordered?: boolean;
}

/**
 * Lists the differences between `expected` (what the peer wrote) and `actual` (what we wrote).
 * An empty list means the shapes match.
 */
export function comparePayloadShape(expected: string, actual: string, opts: ShapeOptions = {}): string[] {
  const ignore = opts.ignore ?? new Set<string>();
  const typeOnly = opts.typeOnly ?? new Set<string>();
  const diffs: string[] = [];
  let e: JsonValue;
  let a: JsonValue;
  try {
    e = parseJson(expected);
  } catch {
    return expected === actual ? [] : ['expected payload is not JSON and actual differs'];
  }
  try {
    a = parseJson(actual);
  } catch (err) {
    return [`actual payload is not JSON: ${(err as Error).message}`];
  }
  if (!(e instanceof JsonObject) || !(a instanceof JsonObject)) {
    return stringifyJson(e) === stringifyJson(a) ? [] : ['payloads are not both job hashes and differ'];
  }
  const ek = e.keys().filter((k) => !ignore.has(k));
  const ak = a.keys().filter((k) => !ignore.has(k));
  const list = (ks: string[]) => (opts.ordered === false ? [...ks].sort() : ks).join(', ');
  if (list(ek) !== list(ak)) diffs.push(`${opts.ordered === false ? 'field sets' : 'keys'} differ: expected [${list(ek)}], got [${list(ak)}]`);
  for (const k of ek) {
    if (!a.has(k)) continue;
    const ev = e.get(k);
    const av = a.get(k);
    if (k === 'jid') {
      if (jidForm(ev) !== jidForm(av)) diffs.push(`jid form differs: expected ${jidForm(ev)}, got ${jidForm(av)}`);
    } else if (k.endsWith('_at')) {
      if (timeForm(ev) !== timeForm(av)) diffs.push(`${k} format differs: expected ${timeForm(ev)}, got ${timeForm(av)}`);
    } else if (jsonTypeName(ev) !== jsonTypeName(av)) {
      diffs.push(`${k} type differs: expected ${jsonTypeName(ev)}, got ${jsonTypeName(av)}`);
    } else if (!RANDOM_FIELDS.has(k) && !typeOnly.has(k) && stringifyJson(ev!) !== stringifyJson(av!)) {
      diffs.push(`${k} differs: expected ${stringifyJson(ev!).slice(0, 80)}, got ${stringifyJson(av!).slice(0, 80)}`);
    }
  }
  return diffs;
}
