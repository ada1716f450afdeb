/**
 * `aj`: constructors for the ActiveJob argument types a producer writes, and readers for the
 * marks a handler receives. `aj.kwargs({ name: 'x' })` is `perform_later(name: "x")`,
 * `aj.symbolKeys({ name: 'z' })` a positional `{name: "z"}`, a plain object a String-key Hash.
 */
import {
  AJ_HASH, AjBigDecimal, AjDate, AjDuration, AjFloat, AjGlobalId, AjModule, AjRange, AjSymbol, AjTime, type DurationPart,
  type HashInfo, hashInfo, markHash,
} from './values.js';

/** ActiveSupport::Duration's seconds per unit (1 month = 1/12 year, 1 year = 365.2425 days). */
const UNIT_SECONDS: Record<string, number> = {
  seconds: 1, minutes: 60, hours: 3600, days: 86_400, weeks: 604_800, months: 2_629_746, years: 31_556_952,
};

function symbolMarked<T extends object>(obj: T, mark: 'symbol_keys' | 'ruby2_keywords', keys?: readonly string[]): T {
  const copy = { ...obj } as T;
  return markHash(copy, { mark, symbolKeys: keys ?? Object.keys(obj) });
}

export const aj = {
  /** A Ruby Symbol (`:pending`). */
  symbol: (name: string) => new AjSymbol(name),
  /** A GlobalID record reference (`gid://app/Person/42`). */
  globalId: (uri: string) => new AjGlobalId(uri),
  /** A Date (`2024-02-29`, or the UTC date of a JS Date). */
  date: (d: string | Date) => new AjDate(typeof d === 'string' ? d : d.toISOString().slice(0, 10)),
  /** A Time: its ISO 8601 text as Ruby's iso8601(9) writes it, or a JS Date (UTC). */
  time: (t: string | Date) => new AjTime(typeof t === 'string' ? t : t.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z'), 'Time'),
  /** A DateTime (ISO 8601 text). */
  dateTime: (t: string) => new AjTime(t, 'DateTime'),
  /** An ActiveSupport::TimeWithZone (ISO 8601 text; `zone` is written only for Rails ≥ 7.1 targets). */
  timeWithZone: (t: string, zone?: string) => new AjTime(t, 'ActiveSupport::TimeWithZone', zone),
  /** An ActiveSupport::Duration from its parts (`{ days: 2, hours: 3 }`: 183600 seconds). */
  duration(parts: Record<string, number>): AjDuration {
    let seconds = 0;
    const list: DurationPart[] = [];
    for (const [unit, n] of Object.entries(parts)) {
      const per = UNIT_SECONDS[unit];
      if (per === undefined) throw new TypeError(`a Duration unit must be one of ${Object.keys(UNIT_SECONDS).join(', ')}, got ${unit}`);
      seconds += per * n;
      list.push([unit, n]);
    }
    return new AjDuration(Number.isInteger(seconds) ? seconds : seconds, list);
  },
  /** A Module or Class (`Comparable`). */
  module: (name: string) => new AjModule(name),
  /** A BigDecimal from its decimal text (`'1.23'`; written as Ruby's `0.123e1`). */
  bigDecimal: (text: string) => new AjBigDecimal(text),
  /** A Range (Rails ≥ 7.0 targets). */
  range: (begin: unknown, end: unknown, excludeEnd = false) => new AjRange(begin, end, excludeEnd),
  /** A Float Ruby must receive as a Float even when it is integral (`2.0`). */
  float: (n: number) => new AjFloat(n),
  /** Keyword arguments (the last argument): `perform(n, name:, count:)`. */
  kwargs: <T extends object>(obj: T, symbolKeys?: readonly string[]) => symbolMarked(obj, 'ruby2_keywords', symbolKeys),
  /** A positional Hash whose keys (all, or those listed) are Symbols. */
  symbolKeys: <T extends object>(obj: T, keys?: readonly string[]) => symbolMarked(obj, 'symbol_keys', keys),
  /** A HashWithIndifferentAccess. */
  indifferent: <T extends object>(obj: T) => markHash({ ...obj } as T, { mark: 'indifferent', symbolKeys: [] }),
  /** How a received Hash was marked (undefined: a plain object, written with String keys). */
  hashInfo: (obj: object): HashInfo | undefined => hashInfo(obj),
  /** True when a received Hash was keyword arguments. */
  isKwargs: (obj: object): boolean => hashInfo(obj)?.mark === 'ruby2_keywords',
  /** The property key carrying a Hash's marks. */
  HASH: AJ_HASH,
} as const;
