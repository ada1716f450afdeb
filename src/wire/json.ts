/**
 * Lossless JSON: a document model that keeps what `JSON.parse` throws away.
 *
 * Peers write payloads that JavaScript's own JSON cannot carry unchanged: integers above 2^53,
 * floats written as `1.0` (Ruby's Float), key order that JS objects would reorder (`"2"` before
 * `"b"`), escapes such as cjson's `\/`. Parsing into this model and writing it back gives the
 * same bytes, so a job we did not create can be re-encoded (e.g. with retry fields appended)
 * without changing any value the peer wrote.
 *
 * - numbers are {@link JsonNumber}, holding their exact token;
 * - objects are {@link JsonObject}, an ordered list of entries (duplicates kept as written);
 * - strings are plain JS strings, or a {@link JsonString} when the token is not the canonical
 *   encoding (`JSON.stringify`'s, which is also what Ruby's JSON.generate and Jason write).
 */
import { WireError } from './errors.js';

/** A JSON number, kept as the exact token the writer produced (e.g. `"1.0"`, `"4611686018427387904"`). */
export class JsonNumber {
  constructor(readonly raw: string) {}
  /** True when the token is an integer (no fraction, no exponent). */
  get isInteger(): boolean {
    return /^-?\d+$/.test(this.raw);
  }
  /** The value as a JS number (may lose precision above 2^53; use {@link toNative} for args). */
  toNumber(): number {
    return Number(this.raw);
  }
  toJSON(): unknown {
    return this.toNumber();
  }
}

/** A string whose token used non-canonical escapes (`"\/"`, `"\u00e9"`); `raw` is the token with its quotes. */
export class JsonString {
  constructor(readonly value: string, readonly raw: string) {}
}

export type JsonValue = null | boolean | string | JsonString | JsonNumber | JsonValue[] | JsonObject;

interface Entry {
  key: string;
  /** The key's token when it was not canonical. */
  rawKey?: string;
  value: JsonValue;
}

/** A JSON object with its key order (and exact key tokens) preserved. */
export class JsonObject {
  readonly entries: Entry[] = [];

  static from(pairs: Array<[string, JsonValue]>): JsonObject {
    const obj = new JsonObject();
    for (const [k, v] of pairs) obj.entries.push({ key: k, value: v });
    return obj;
  }

  has(key: string): boolean {
    return this.entries.some((e) => e.key === key);
  }

  /** The value of the last entry named `key` (as JSON.parse would), or undefined. */
  get(key: string): JsonValue | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.key === key) return e.value;
    }
    return undefined;
  }

  /** Replaces the value in place when the key exists (keeping its position), else appends. */
  set(key: string, value: JsonValue): this {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.key === key) {
        e.value = value;
        return this;
      }
    }
    this.entries.push({ key, value });
    return this;
  }

  delete(key: string): boolean {
    const before = this.entries.length;
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]!.key === key) this.entries.splice(i, 1);
    return this.entries.length !== before;
  }

  keys(): string[] {
    return this.entries.map((e) => e.key);
  }

  /** A deep copy, so a re-encoded job never shares nodes with the decoded original. */
  clone(): JsonObject {
    const obj = new JsonObject();
    for (const e of this.entries) obj.entries.push({ ...e, value: cloneValue(e.value) });
    return obj;
  }
}

function cloneValue(v: JsonValue): JsonValue {
  if (v instanceof JsonObject) return v.clone();
  if (Array.isArray(v)) return v.map(cloneValue);
  return v; // primitives and the immutable JsonNumber/JsonString
}

/** Reads a string value (plain or {@link JsonString}); undefined for any other type. */
export function asString(v: JsonValue | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof JsonString) return v.value;
  return undefined;
}

/** Default nesting limit; Ruby's JSON stops at 100, so deeper payloads cannot come from Sidekiq. */
export const DEFAULT_MAX_DEPTH = 512;

/** Parses JSON text into the lossless model. Throws {@link WireError} (code `invalid_json`) with the offset. */
export function parseJson(text: string, maxDepth = DEFAULT_MAX_DEPTH): JsonValue {
  const p = new Parser(text, maxDepth);
  p.ws();
  const v = p.value(0);
  p.ws();
  if (p.i !== text.length) p.fail('unexpected data after the JSON value');
  return v;
}

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Parser {
  i = 0;
  constructor(readonly s: string, readonly maxDepth: number) {}

  fail(what: string): never {
    const near = JSON.stringify(this.s.slice(this.i, this.i + 20));
    throw new WireError('invalid_json', `payload is not valid JSON: ${what} at offset ${this.i} (near ${near})`);
  }

  ws(): void {
    const s = this.s;
    let c = s.charCodeAt(this.i);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = s.charCodeAt(++this.i);
  }

  value(depth: number): JsonValue {
    const c = this.s[this.i];
    switch (c) {
      case '{': return this.object(depth + 1);
      case '[': return this.array(depth + 1);
      case '"': return this.string();
      case 't': return this.literal('true', true);
      case 'f': return this.literal('false', false);
      case 'n': return this.literal('null', null);
      case undefined: return this.fail('unexpected end of input');
      default: return this.number();
    }
  }

  literal<T extends JsonValue>(word: string, v: T): T {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return v;
    }
    return this.fail('unexpected token');
  }

  number(): JsonNumber {
    NUMBER_RE.lastIndex = this.i;
    const m = NUMBER_RE.exec(this.s);
    if (!m) return this.fail('unexpected token');
    this.i += m[0].length;
    return new JsonNumber(m[0]);
  }

  /** Returns the decoded string, or a JsonString when the token is not canonical. */
  string(): string | JsonString {
    const start = this.i;
    const s = this.s;
    let i = start + 1;
    let escaped = false;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        i += 2;
        continue;
      }
      if (Number.isNaN(c)) {
        this.i = start;
        this.fail('unterminated string');
      }
      if (c < 0x20) {
        this.i = i;
        this.fail('control character in string');
      }
      i++;
    }
    const raw = s.slice(start, i + 1);
    this.i = i + 1;
    if (!escaped) {
      // No escapes: the text between the quotes is the value; canonical unless it holds a
      // lone surrogate (JSON.stringify would escape it).
      const value = raw.slice(1, -1);
      return value.isWellFormed() ? value : new JsonString(value, raw);
    }
    let value: string;
    try {
      value = JSON.parse(raw) as string;
    } catch {
      this.i = start;
      return this.fail('invalid escape in string');
    }
    return JSON.stringify(value) === raw ? value : new JsonString(value, raw);
  }

  array(depth: number): JsonValue[] {
    if (depth > this.maxDepth) this.fail(`nested deeper than ${this.maxDepth} levels`);
    this.i++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(depth));
      this.ws();
      const c = this.s[this.i++];
      if (c === ',') continue;
      if (c === ']') return out;
      this.i--;
      this.fail("expected ',' or ']'");
    }
  }

  object(depth: number): JsonObject {
    if (depth > this.maxDepth) this.fail(`nested deeper than ${this.maxDepth} levels`);
    this.i++;
    const obj = new JsonObject();
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return obj;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a string key');
      const k = this.string();
      this.ws();
      if (this.s[this.i++] !== ':') {
        this.i--;
        this.fail("expected ':'");
      }
      this.ws();
      const value = this.value(depth);
      if (typeof k === 'string') obj.entries.push({ key: k, value });
      else obj.entries.push({ key: k.value, rawKey: k.raw, value });
      this.ws();
      const c = this.s[this.i++];
      if (c === ',') continue;
      if (c === '}') return obj;
      this.i--;
      this.fail("expected ',' or '}'");
    }
  }
}

/** Writes the model back as compact JSON; an unmodified parse result gives back its input bytes. */
export function stringifyJson(v: JsonValue): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean': return v ? 'true' : 'false';
    case 'string': return quoteString(v);
  }
  if (v instanceof JsonNumber) return v.raw;
  if (v instanceof JsonString) return v.raw;
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + stringifyJson(v[i]!);
    return out + ']';
  }
  let out = '{';
  let first = true;
  for (const e of v.entries) {
    out += (first ? '' : ',') + (e.rawKey ?? quoteString(e.key)) + ':' + stringifyJson(e.value);
    first = false;
  }
  return out + '}';
}

/** A JS value as handlers see it: numbers, BigInt for integers beyond 2^53, plain objects and arrays. */
export type NativeJson = null | boolean | number | bigint | string | NativeJson[] | { [key: string]: NativeJson };

/**
 * Converts the model to plain JS values for a handler. Integer tokens outside the safe range
 * become BigInt (exact); every other number is a JS number. Object keys such as `__proto__` become
 * own data properties (as with JSON.parse), never prototype changes.
 */
export function toNative(v: JsonValue): NativeJson {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (v instanceof JsonNumber) {
    if (v.isInteger) {
      const n = Number(v.raw);
      return Number.isSafeInteger(n) ? n : BigInt(v.raw);
    }
    return Number(v.raw);
  }
  if (v instanceof JsonString) return v.value;
  if (Array.isArray(v)) return v.map(toNative);
  const out: { [key: string]: NativeJson } = {};
  for (const e of v.entries) {
    Object.defineProperty(out, e.key, { value: toNative(e.value), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Converts a caller's JS value to the model, accepting only JSON-native values, as Sidekiq's
 * strict_args does: null, booleans, finite numbers, BigInt, strings, arrays and plain objects
 * (plus the lossless model's own {@link JsonNumber}/{@link JsonObject}, so an exact token such as
 * `1.0` passes through unchanged). `path` names the value in errors.
 */
export function fromNative(v: unknown, path: string, depth = 0): JsonValue {
  if (depth > DEFAULT_MAX_DEPTH) throw new WireError('invalid_args', `${path} is nested deeper than ${DEFAULT_MAX_DEPTH} levels`, path);
  if (v === null || typeof v === 'boolean' || typeof v === 'string') {
    if (typeof v === 'string' && !v.isWellFormed()) {
      throw new WireError('invalid_args', `${path} must be valid unicode text, got a string with a lone surrogate`, path);
    }
    return v;
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new WireError('invalid_args', `${path} must be a finite number, got ${v}`, path);
    return new JsonNumber(formatNumber(v));
  }
  if (typeof v === 'bigint') return new JsonNumber(v.toString());
  if (v instanceof JsonNumber || v instanceof JsonString || v instanceof JsonObject) return v;
  if (Array.isArray(v)) {
    const out: JsonValue[] = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) throw new WireError('invalid_args', `${path}[${i}] is a hole in a sparse array; JSON has no such value`, `${path}[${i}]`);
      out[i] = fromNative(v[i], `${path}[${i}]`, depth + 1);
    }
    return out;
  }
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      throw new WireError('invalid_args', `${path} must be a JSON-native value (null, boolean, number, string, array or plain object), got ${describe(v)}`, path);
    }
    const obj = new JsonObject();
    for (const key of Object.keys(v)) {
      obj.entries.push({ key, value: fromNative((v as Record<string, unknown>)[key], `${path}.${key}`, depth + 1) });
    }
    return obj;
  }
  throw new WireError('invalid_args', `${path} must be a JSON-native value (null, boolean, number, string, array or plain object), got ${describe(v)}`, path);
}

/** Names a value's type for error messages (`string`, `Date`, `undefined`, `function`). */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') {
    const ctor = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
    return ctor && ctor !== 'Object' ? ctor : 'object';
  }
  return typeof v;
}

/**
 * JS number → JSON token (JSON.stringify's form; `-0` is written `0` as JSON.stringify does).
 * `String(n)` is the same shortest round-trip form for every finite number, without the cost of
 * entering JSON.stringify (a measurable part of each enqueue); non-finite numbers have no JSON
 * token, and JSON.stringify writes them `null`.
 */
export function formatNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

// A string JSON.stringify would write as itself between quotes: no quote, backslash, control
// character or surrogate (a lone surrogate is escaped; pairs are left to JSON.stringify too).
const PLAIN_STRING = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** A JS string as a JSON string token, as JSON.stringify writes it. */
export function quoteString(s: string): string {
  return PLAIN_STRING.test(s) ? `"${s}"` : JSON.stringify(s);
}

/** Parses JSON text whose result must be an object (a job hash). */
export function parseObject(text: string, what = 'payload'): JsonObject {
  const v = parseJson(text);
  if (!(v instanceof JsonObject)) {
    throw new WireError('invalid_job', `${what} must be a JSON object (a job hash), got ${jsonTypeName(v)}`);
  }
  return v;
}

/** The JSON type of a model value: `object`, `array`, `string`, `number`, `boolean` or `null`. */
export function jsonTypeName(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'string' || v instanceof JsonString) return 'string';
  if (v instanceof JsonNumber) return 'number';
  if (Array.isArray(v)) return 'array';
  return 'object';
}
