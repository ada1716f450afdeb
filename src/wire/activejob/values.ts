/**
 * The ActiveJob argument types that JSON cannot carry, as typed JS values with their exact
 * text, and the marks a Ruby Hash carries (symbol keys, keyword arguments, indifferent access).
 *
 * A handler receives these from a Rails job, and a producer writes them with the `aj.*`
 * constructors (activejob/index.ts); either way the value goes back to Ruby as it came: a
 * BigDecimal is its decimal text (never a float), a Time keeps its offset and nine fraction
 * digits, a Float with an integral value (2.0, -0.0, 1.0e+20) stays a Float.
 *
 * Pure, no I/O.
 */

/** The `_aj_serialized` names of ActiveJob's own serializers (6.1, plus Range/BigDecimal of 7.x). */
export const SERIALIZER = {
  symbol: 'ActiveJob::Serializers::SymbolSerializer',
  date: 'ActiveJob::Serializers::DateSerializer',
  time: 'ActiveJob::Serializers::TimeSerializer',
  dateTime: 'ActiveJob::Serializers::DateTimeSerializer',
  timeWithZone: 'ActiveJob::Serializers::TimeWithZoneSerializer',
  duration: 'ActiveJob::Serializers::DurationSerializer',
  module: 'ActiveJob::Serializers::ModuleSerializer',
  range: 'ActiveJob::Serializers::RangeSerializer',
  bigDecimal: 'ActiveJob::Serializers::BigDecimalSerializer',
} as const;

/** A Ruby Symbol (`:pending`). */
export class AjSymbol {
  constructor(readonly name: string) {}
  toString(): string {
    return this.name;
  }
}

/** A GlobalID (`gid://app/Model/id`): the record the Ruby side locates with `Model.find(id)`. */
export class AjGlobalId {
  constructor(readonly uri: string) {}
  /** The app name (the URI's host). */
  get app(): string {
    return parseGid(this.uri)!.app;
  }
  /** The model class name (`Person`, `Admin::User`). */
  get modelName(): string {
    return parseGid(this.uri)!.modelName;
  }
  /** The id, as a String (GlobalID locates with a String id). */
  get modelId(): string {
    return parseGid(this.uri)!.modelId;
  }
  toString(): string {
    return this.uri;
  }
}

/** The parts of a GlobalID URI, or undefined when it is not one (GlobalID's URI::GID rules, simplified). */
export function parseGid(uri: string): { app: string; modelName: string; modelId: string } | undefined {
  const m = /^gid:\/\/([A-Za-z0-9][A-Za-z0-9.-]*)\/([A-Za-z_][\w:]*)\/([^/?#]+)(\?[^#]*)?$/.exec(uri);
  if (!m) return undefined;
  let modelId: string;
  try {
    modelId = decodeURIComponent(m[3]!);
  } catch {
    return undefined;
  }
  return { app: m[1]!, modelName: m[2]!, modelId };
}

/** A Ruby Date (`2024-02-29`), kept as its ISO 8601 text. */
export class AjDate {
  constructor(readonly iso: string) {}
  toString(): string {
    return this.iso;
  }
}

/** Which of Ruby's time classes a time value is. */
export type AjTimeKind = 'Time' | 'DateTime' | 'ActiveSupport::TimeWithZone';

/**
 * A Ruby Time, DateTime or ActiveSupport::TimeWithZone, kept as its ISO 8601 text
 * (`2024-01-02T03:04:05.123456789+09:00`: nanoseconds and offset exact). `timeZone` is the
 * TimeWithZone's zone name where the producer wrote one (Rails ≥ 7.0.9 `time_zone`); in 6.1
 * the zone name travels only as the job's `timezone`.
 */
export class AjTime {
  constructor(readonly iso: string, readonly kind: AjTimeKind = 'Time', readonly timeZone?: string) {}
  /** The instant as a JS Date (millisecond precision: the nanoseconds stay in `iso`). */
  toDate(): Date {
    return new Date(this.iso);
  }
  toString(): string {
    return this.iso;
  }
}

/** One part of a Duration: `['days', 2]`. A part's count is a JS number (an AjFloat when Ruby wrote `2.0`). */
export type DurationPart = [unit: string, count: number | bigint | AjFloat];

/** An ActiveSupport::Duration: its value in seconds (Integer, or Float for `1.5.hours`) and its parts. */
export class AjDuration {
  constructor(readonly seconds: number | bigint | AjFloat, readonly parts: DurationPart[]) {}
}

/** A Module or Class given as an argument (`Comparable`): its name. */
export class AjModule {
  constructor(readonly name: string) {}
}

/** A BigDecimal, kept as its decimal text (never a float). */
export class AjBigDecimal {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** A Ruby Range (Rails ≥ 7.0's RangeSerializer): begin and end as argument values. */
export class AjRange {
  constructor(readonly begin: unknown, readonly end: unknown, readonly excludeEnd: boolean) {}
}

/**
 * A Ruby Float whose value JS would write as an Integer (`2.0`, `-0.0`, `1.0e+20`): kept so it
 * goes back as a Float. Arithmetic works through valueOf (`f * 2`); compare with `+f === 2`.
 */
export class AjFloat {
  /** The Float's JSON token as Ruby writes it (`2.0`). */
  readonly token: string;
  constructor(readonly value: number, token?: string) {
    this.token = token ?? rubyFloatToken(value);
  }
  valueOf(): number {
    return this.value;
  }
  toString(): string {
    return this.token;
  }
}

/** Ruby's Float#to_s for a finite number (what its JSON writes): `2.0`, `-0.0`, `1.0e+20`, `1.5e-05`. */
export function rubyFloatToken(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`a Float must be finite, got ${n}`);
  if (Object.is(n, -0)) return '-0.0';
  const abs = Math.abs(n);
  if (abs !== 0 && (abs >= 1e15 || abs < 1e-4)) {
    const [mant, exp] = n.toExponential().split('e') as [string, string];
    const e = Number(exp);
    return `${mant.includes('.') ? mant : `${mant}.0`}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  const s = String(n);
  return s.includes('.') ? s : `${s}.0`;
}

/** How a Ruby Hash was marked when it was serialized, and so how it is written back. */
export type HashMark =
  /** `_aj_symbol_keys`: a positional Hash; the listed keys are Symbols. */
  | 'symbol_keys'
  /** `_aj_ruby2_keywords`: keyword arguments (the listed keys are Symbols). */
  | 'ruby2_keywords'
  /** `_aj_hash_with_indifferent_access`: a HashWithIndifferentAccess (String keys). */
  | 'indifferent'
  /** No marker at all (not written by Ruby's ActiveJob; read as a String-key Hash). */
  | 'none';

/** What a decoded Hash carries besides its entries. */
export interface HashInfo {
  mark: HashMark;
  /** The keys that are Ruby Symbols. */
  symbolKeys: readonly string[];
  /** The key order, when JS's own order differs from it (integer-like keys come first in JS). */
  order?: readonly string[];
}

/**
 * The property (a JS Symbol, so it never shows in Object.keys or JSON) under which a Hash's
 * {@link HashInfo} travels. Spreading an object (`{ ...h }`) keeps it.
 */
export const AJ_HASH: unique symbol = Symbol.for('kiqgate.activejob.hash');

/** An ActiveJob argument value, as a handler receives it and a producer may write it. */
export type AjValue =
  | null | boolean | number | bigint | string
  | AjSymbol | AjGlobalId | AjDate | AjTime | AjDuration | AjModule | AjBigDecimal | AjRange | AjFloat
  | AjValue[]
  | { [key: string]: AjValue };

/** A Hash's marks (undefined for a plain object no one marked: written with String keys). */
export function hashInfo(obj: object): HashInfo | undefined {
  return (obj as { [AJ_HASH]?: HashInfo })[AJ_HASH];
}

/** Marks `obj` (in place) and returns it. */
export function markHash<T extends object>(obj: T, info: HashInfo): T {
  Object.defineProperty(obj, AJ_HASH, { value: info, enumerable: true, writable: true, configurable: true });
  return obj;
}
