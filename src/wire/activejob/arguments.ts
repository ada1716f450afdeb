/**
 * ActiveJob's argument serialization (activejob/lib/active_job/arguments.rb), both ways:
 * JSON as Rails wrote it → typed JS values (values.ts), and back, byte for byte as
 * `perform_later` writes them.
 *
 * Decoding follows Arguments#deserialize: a Hash of exactly one key `_aj_globalid` is a
 * GlobalID; a Hash with `_aj_serialized` goes to that serializer (an unknown name is an error,
 * as Ruby's DeserializationError); otherwise the marker is read in Ruby's order
 * (`_aj_hash_with_indifferent_access`, `_aj_symbol_keys`, `_aj_ruby2_keywords`) and kept on
 * the object (values.ts AJ_HASH) so the Hash is written back as it came. Every error is a
 * WireError naming the argument's path. Pure, no I/O.
 */
import { WireError } from '../errors.js';
import { JsonNumber, JsonObject, JsonString, type JsonValue, asString, describe, jsonTypeName } from '../json.js';
import {
  AJ_HASH, AjBigDecimal, AjDate, AjDuration, AjFloat, AjGlobalId, AjModule, AjRange, AjSymbol, AjTime, type AjTimeKind, type AjValue,
  type DurationPart, type HashInfo, type HashMark, SERIALIZER, hashInfo, markHash, parseGid, rubyFloatToken,
} from './values.js';

const GLOBALID = '_aj_globalid';
const SERIALIZED = '_aj_serialized';
const SYMBOL_KEYS = '_aj_symbol_keys';
const RUBY2_KEYWORDS = '_aj_ruby2_keywords';
const INDIFFERENT = '_aj_hash_with_indifferent_access';
/** Keys a Hash argument may not have (Arguments::RESERVED_KEYS). */
const RESERVED = new Set([GLOBALID, SERIALIZED, SYMBOL_KEYS, RUBY2_KEYWORDS, INDIFFERENT]);

const ISO_DATE = /^[+-]?\d{4,}-\d{2}-\d{2}$/;
const ISO_TIME = /^[+-]?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/;

const TIME_KINDS: Record<string, AjTimeKind> = {
  [SERIALIZER.time]: 'Time', [SERIALIZER.dateTime]: 'DateTime', [SERIALIZER.timeWithZone]: 'ActiveSupport::TimeWithZone',
};

function bad(path: string, why: string): never {
  throw new WireError('invalid_args', `${path} ${why}`, path);
}

function str(o: JsonObject, key: string, path: string): string {
  const s = asString(o.get(key));
  if (s === undefined) bad(`${path}.${key}`, `must be a string, got ${jsonTypeName(o.get(key))}`);
  return s;
}

/** A JSON number as a handler value: an Integer as number/BigInt, a Float as number (AjFloat when integral). */
function numberValue(n: JsonNumber): number | bigint | AjFloat {
  const v = Number(n.raw);
  if (n.isInteger) return Number.isSafeInteger(v) ? v : BigInt(n.raw);
  return Number.isInteger(v) || Object.is(v, -0) ? new AjFloat(v, n.raw) : v;
}

/** The handler's value of one serialized argument (Arguments#deserialize_argument). */
export function decodeArgument(v: JsonValue, path: string): AjValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (v instanceof JsonString) return v.value;
  if (v instanceof JsonNumber) return numberValue(v);
  if (Array.isArray(v)) return v.map((x, i) => decodeArgument(x, `${path}[${i}]`));
  if (v.entries.length === 1 && v.entries[0]!.key === GLOBALID) {
    const uri = str(v, GLOBALID, path);
    if (!parseGid(uri)) bad(`${path}.${GLOBALID}`, `is not a GlobalID URI (gid://app/Model/id): ${JSON.stringify(uri.slice(0, 80))}`);
    return new AjGlobalId(uri);
  }
  if (v.has(SERIALIZED)) return decodeSerialized(v, path);
  return decodeHash(v, path);
}

function decodeSerialized(o: JsonObject, path: string): AjValue {
  const name = str(o, SERIALIZED, path);
  const value = o.get('value');
  switch (name) {
    case SERIALIZER.symbol: return new AjSymbol(str(o, 'value', path));
    case SERIALIZER.module: return new AjModule(str(o, 'value', path));
    case SERIALIZER.bigDecimal: return new AjBigDecimal(str(o, 'value', path));
    case SERIALIZER.date: {
      const s = str(o, 'value', path);
      if (!ISO_DATE.test(s)) bad(`${path}.value`, `must be an ISO 8601 date (2024-02-29), got ${JSON.stringify(s.slice(0, 40))}`);
      return new AjDate(s);
    }
    case SERIALIZER.time: case SERIALIZER.dateTime: case SERIALIZER.timeWithZone: {
      const s = str(o, 'value', path);
      if (!ISO_TIME.test(s)) bad(`${path}.value`, `must be an ISO 8601 time (2024-01-02T03:04:05.123456789Z), got ${JSON.stringify(s.slice(0, 40))}`);
      const zone = o.has('time_zone') ? str(o, 'time_zone', path) : undefined;
      return new AjTime(s, TIME_KINDS[name]!, zone);
    }
    case SERIALIZER.duration: {
      if (!(value instanceof JsonNumber)) bad(`${path}.value`, `must be a number of seconds, got ${jsonTypeName(value)}`);
      const parts = o.get('parts');
      if (!Array.isArray(parts)) bad(`${path}.parts`, `must be an array of [unit, count] pairs, got ${jsonTypeName(parts)}`);
      const out: DurationPart[] = parts.map((p, i) => {
        const where = `${path}.parts[${i}]`;
        if (!Array.isArray(p) || p.length !== 2 || !(p[1] instanceof JsonNumber)) bad(where, 'must be a [unit Symbol, count] pair');
        const unit = decodeArgument(p[0]!, `${where}[0]`);
        if (!(unit instanceof AjSymbol)) bad(`${where}[0]`, 'must be a Symbol (the unit: days, hours, ...)');
        return [unit.name, numberValue(p[1])];
      });
      return new AjDuration(numberValue(value), out);
    }
    case SERIALIZER.range: {
      const ex = o.get('exclude_end');
      if (typeof ex !== 'boolean') bad(`${path}.exclude_end`, `must be true or false, got ${jsonTypeName(ex)}`);
      return new AjRange(decodeArgument(o.get('begin') ?? null, `${path}.begin`), decodeArgument(o.get('end') ?? null, `${path}.end`), ex);
    }
    default:
      return bad(`${path}.${SERIALIZER_KEY}`, `names an unknown serializer ${JSON.stringify(name.slice(0, 100))} (known: ${Object.values(SERIALIZER).join(', ')})`);
  }
}
const SERIALIZER_KEY = SERIALIZED;

function stringList(v: JsonValue | undefined, path: string): string[] {
  if (!Array.isArray(v)) bad(path, `must be an array of key names, got ${jsonTypeName(v)}`);
  return v.map((x, i) => {
    const s = asString(x);
    if (s === undefined) bad(`${path}[${i}]`, `must be a string, got ${jsonTypeName(x)}`);
    return s;
  });
}

/** Arguments#deserialize_hash: the marker decides the mark; the other keys are the entries. */
function decodeHash(o: JsonObject, path: string): AjValue {
  let mark: HashMark = 'none';
  let symbolKeys: string[] = [];
  let markerKey: string | undefined;
  const hwia = o.get(INDIFFERENT);
  if (hwia !== undefined && hwia !== null && hwia !== false) {
    mark = 'indifferent';
    markerKey = INDIFFERENT;
  } else if (o.has(SYMBOL_KEYS)) {
    mark = 'symbol_keys';
    markerKey = SYMBOL_KEYS;
    symbolKeys = stringList(o.get(SYMBOL_KEYS), `${path}.${SYMBOL_KEYS}`);
  } else if (o.has(RUBY2_KEYWORDS)) {
    mark = 'ruby2_keywords';
    markerKey = RUBY2_KEYWORDS;
    symbolKeys = stringList(o.get(RUBY2_KEYWORDS), `${path}.${RUBY2_KEYWORDS}`);
  }
  const out: { [k: string]: AjValue } = {};
  const order: string[] = [];
  for (const e of o.entries) {
    if (e.key === markerKey) continue;
    order.push(e.key);
    Object.defineProperty(out, e.key, { value: decodeArgument(e.value, `${path}.${e.key}`), enumerable: true, writable: true, configurable: true });
  }
  const present = new Set(order);
  const info: HashInfo = { mark, symbolKeys: symbolKeys.filter((k) => present.has(k)) };
  const jsOrder = Object.keys(out);
  if (jsOrder.some((k, i) => k !== order[i])) info.order = order;
  return markHash(out, info);
}

/** What the target Rails writes for the types that changed after 6.1. */
export interface ArgumentFeatures {
  /** Rails ≥ 7.0: RangeSerializer (6.1 refuses a Range). */
  range: boolean;
  /** Rails ≥ 7.2 (7.1 opt-in): BigDecimalSerializer; before, a BigDecimal is written as its text. */
  bigDecimalSerializer: boolean;
  /** Rails ≥ 7.1 (and 7.0.9): TimeWithZone carries `time_zone`. */
  timeZoneField: boolean;
}

export const RAILS_6_1_ARGUMENTS: ArgumentFeatures = { range: false, bigDecimalSerializer: false, timeZoneField: false };

const serialized = (name: string, ...rest: Array<[string, JsonValue]>): JsonObject => JsonObject.from([[SERIALIZED, name], ...rest]);

/** Ruby's BigDecimal#to_s of a decimal text (`1.23` → `0.123e1`), as ActiveJob writes it. */
export function rubyBigDecimalText(text: string, path = 'value'): string {
  if (/^[+-]?(NaN|Infinity)$/.test(text)) return text.replace(/^\+/, '');
  const m = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m || (m[2] ?? '') + (m[3] ?? '') === '') bad(path, `must be a decimal number as text (e.g. "1.23"), got ${JSON.stringify(text.slice(0, 40))}`);
  const sign = m[1] === '-' ? '-' : '';
  let digits = (m[2] ?? '') + (m[3] ?? '');
  let exp = (m[2] ?? '').length + Number(m[4] ?? 0);
  const lead = /^0*/.exec(digits)![0].length;
  digits = digits.slice(lead).replace(/0+$/, '');
  exp -= lead;
  return digits === '' ? `${sign}0.0` : `${sign}0.${digits}e${exp}`;
}

/** A JS Date as Ruby's Time#iso8601(9) in UTC. */
function isoNine(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new RangeError('invalid Date');
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/**
 * One argument as Arguments#serialize_argument writes it. Accepts the typed values, JSON-native
 * values, a JS Date (a Ruby Time in UTC) and plain objects (Hashes; marked ones keep their mark).
 */
export function encodeArgument(v: unknown, path: string, f: ArgumentFeatures, depth = 0): JsonValue {
  if (depth > 100) bad(path, 'is nested deeper than 100 levels (Ruby\'s JSON limit)');
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    if (!v.isWellFormed()) bad(path, 'must be valid unicode text, got a string with a lone surrogate');
    return v;
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) bad(path, `must be a finite number, got ${v} (ActiveJob refuses NaN and Infinity)`);
    return new JsonNumber(Number.isInteger(v) ? (Object.is(v, -0) ? '0' : BigInt(v).toString()) : rubyFloatToken(v));
  }
  if (typeof v === 'bigint') return new JsonNumber(v.toString());
  if (v instanceof AjFloat) return new JsonNumber(v.token);
  if (v instanceof AjSymbol) return serialized(SERIALIZER.symbol, ['value', v.name]);
  if (v instanceof AjModule) return serialized(SERIALIZER.module, ['value', v.name]);
  if (v instanceof AjDate) return serialized(SERIALIZER.date, ['value', v.iso]);
  if (v instanceof AjGlobalId) {
    if (!parseGid(v.uri)) bad(path, `is not a GlobalID URI (gid://app/Model/id): ${JSON.stringify(v.uri.slice(0, 80))}`);
    return JsonObject.from([[GLOBALID, v.uri]]);
  }
  if (v instanceof AjTime) {
    const name = v.kind === 'DateTime' ? SERIALIZER.dateTime : v.kind === 'Time' ? SERIALIZER.time : SERIALIZER.timeWithZone;
    const o = serialized(name, ['value', v.iso]);
    if (v.kind === 'ActiveSupport::TimeWithZone' && v.timeZone !== undefined && f.timeZoneField) o.set('time_zone', v.timeZone);
    return o;
  }
  if (v instanceof Date) return serialized(SERIALIZER.time, ['value', isoNine(v)]);
  if (v instanceof AjDuration) {
    const parts: JsonValue[] = v.parts.map(([unit, count], i) => [
      serialized(SERIALIZER.symbol, ['value', unit]), encodeArgument(count, `${path}.parts[${i}][1]`, f, depth + 2),
    ]);
    return serialized(SERIALIZER.duration, ['value', encodeArgument(v.seconds, `${path}.seconds`, f, depth + 1)], ['parts', parts]);
  }
  if (v instanceof AjBigDecimal) {
    const text = rubyBigDecimalText(v.text, path);
    return f.bigDecimalSerializer ? serialized(SERIALIZER.bigDecimal, ['value', text]) : text;
  }
  if (v instanceof AjRange) {
    if (!f.range) bad(path, 'is a Range, which ActiveJob before Rails 7.0 cannot serialize (choose a later target)');
    return serialized(SERIALIZER.range, ['begin', encodeArgument(v.begin, `${path}.begin`, f, depth + 1)], ['end', encodeArgument(v.end, `${path}.end`, f, depth + 1)], ['exclude_end', v.excludeEnd]);
  }
  if (Array.isArray(v)) {
    return v.map((x, i) => {
      if (!(i in v)) bad(`${path}[${i}]`, 'is a hole in a sparse array; JSON has no such value');
      return encodeArgument(x, `${path}[${i}]`, f, depth + 1);
    });
  }
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) return encodeHash(v as Record<string, unknown>, path, f, depth);
  }
  return bad(path, `cannot be an ActiveJob argument: got ${describe(v)} (use null, booleans, numbers, BigInt, strings, arrays, plain objects or the aj.* values)`);
}

/** A Hash with its marker last, as Ruby writes it: `_aj_symbol_keys` (default), `_aj_ruby2_keywords` or HWIA's. */
function encodeHash(obj: Record<string, unknown>, path: string, f: ArgumentFeatures, depth: number): JsonObject {
  const info = hashInfo(obj);
  const own = Object.keys(obj);
  const keys = info?.order ? [...info.order.filter((k) => Object.hasOwn(obj, k)), ...own.filter((k) => !info.order!.includes(k))] : own;
  const out = new JsonObject();
  for (const k of keys) {
    if (RESERVED.has(k)) bad(`${path}.${k}`, `is a key ActiveJob reserves for itself (${[...RESERVED].join(', ')})`);
    if (!k.isWellFormed()) bad(path, 'has a key with a lone surrogate');
    out.entries.push({ key: k, value: encodeArgument(obj[k], `${path}.${k}`, f, depth + 1) });
  }
  const mark = info?.mark ?? 'symbol_keys';
  const symbols = new Set(info?.symbolKeys ?? []);
  const listed = keys.filter((k) => symbols.has(k));
  if (mark === 'indifferent') out.entries.push({ key: INDIFFERENT, value: true });
  else if (mark === 'ruby2_keywords') out.entries.push({ key: RUBY2_KEYWORDS, value: listed });
  else if (mark === 'symbol_keys') out.entries.push({ key: SYMBOL_KEYS, value: listed });
  return out;
}

/** Decodes an `arguments` array. */
export function decodeArguments(v: JsonValue | undefined, path = 'arguments'): AjValue[] {
  if (v === undefined) return []; // 6.1's deserialize: no arguments key, no arguments
  if (!Array.isArray(v)) bad(path, `must be an array, got ${jsonTypeName(v)}`);
  return v.map((x, i) => decodeArgument(x, `${path}[${i}]`));
}

/** Encodes an `arguments` array. */
export function encodeArguments(args: readonly unknown[], f: ArgumentFeatures, path = 'args'): JsonValue[] {
  if (!Array.isArray(args)) bad(path, `must be an array, got ${describe(args)}`);
  return args.map((x, i) => encodeArgument(x, `${path}[${i}]`, f));
}

export { AJ_HASH };
