/**
 * ActiveJob fixtures record what each job saw inside Ruby's `perform` (`job_observations`: every
 * argument's class, its inspect, a Hash's ruby2_keywords flag and key classes). This compares a
 * kiqgate handler's values with that record, independently of the decoder: the Ruby class each
 * value stands for, and the exact text of scalars.
 */
import { AjBigDecimal, AjDate, AjDuration, AjFloat, AjGlobalId, AjModule, AjRange, AjSymbol, AjTime, hashInfo } from '../../wire/activejob/index.js';

export interface RubyDescription {
  class: string;
  inspect?: string;
  ruby2_keywords_hash?: boolean;
  entries?: Array<[RubyDescription, RubyDescription]>;
  items?: RubyDescription[];
}

/** The Ruby class a handler value stands for. */
export function rubyClassOf(v: unknown): string {
  if (v === null) return 'NilClass';
  if (v === true) return 'TrueClass';
  if (v === false) return 'FalseClass';
  if (typeof v === 'string') return 'String';
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) return 'Integer';
  if (typeof v === 'number' || v instanceof AjFloat) return 'Float';
  if (v instanceof AjSymbol) return 'Symbol';
  if (v instanceof AjDate) return 'Date';
  if (v instanceof AjTime) return v.kind;
  if (v instanceof AjDuration) return 'ActiveSupport::Duration';
  if (v instanceof AjBigDecimal) return 'BigDecimal';
  if (v instanceof AjRange) return 'Range';
  if (v instanceof AjModule) return 'Module';
  if (v instanceof AjGlobalId) return 'GlobalID';
  if (Array.isArray(v)) return 'Array';
  return hashInfo(v as object)?.mark === 'indifferent' ? 'ActiveSupport::HashWithIndifferentAccess' : 'Hash';
}

/** Ruby's inspect of a scalar, where it is plain (Integer, Symbol, simple String); undefined otherwise. */
function plainInspect(v: unknown): string | undefined {
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) return String(v);
  if (v instanceof AjSymbol && /^[a-z_]\w*$/.test(v.name)) return `:${v.name}`;
  if (typeof v === 'string' && /^[\x20-\x7e]*$/.test(v) && !/["\\#]/.test(v)) return JSON.stringify(v);
  return undefined;
}

/** Differences between a handler value and Ruby's description of the same argument (empty when they agree). */
export function compareWithRuby(v: unknown, d: RubyDescription, path: string): string[] {
  const cls = rubyClassOf(v);
  // A GlobalID arrives in Ruby as the located record (its model class): compared by being a record.
  if (cls === 'GlobalID') return [];
  if (cls !== d.class) return [`${path}: kiqgate's value stands for a Ruby ${cls}, perform received a ${d.class} (${d.inspect ?? ''})`];
  const out: string[] = [];
  const text = plainInspect(v);
  if (text !== undefined && d.inspect !== undefined && text !== d.inspect) out.push(`${path}: ${text} vs Ruby's ${d.inspect}`);
  if (cls === 'Array' && d.items) (v as unknown[]).forEach((x, i) => d.items![i] && out.push(...compareWithRuby(x, d.items![i]!, `${path}[${i}]`)));
  if (cls === 'Hash' && d.entries) {
    const info = hashInfo(v as object);
    if (d.ruby2_keywords_hash !== undefined && (info?.mark === 'ruby2_keywords') !== d.ruby2_keywords_hash) out.push(`${path}: keyword arguments ${info?.mark === 'ruby2_keywords'}, Ruby ${d.ruby2_keywords_hash}`);
    const symbols = new Set(info?.symbolKeys ?? []);
    for (const [k, x] of d.entries) {
      const name = k.class === 'Symbol' ? k.inspect!.slice(1) : JSON.parse(k.inspect!) as string;
      if ((k.class === 'Symbol') !== symbols.has(name)) out.push(`${path}.${name}: key is a ${k.class} in Ruby, kiqgate marks it ${symbols.has(name) ? 'Symbol' : 'String'}`);
      out.push(...compareWithRuby((v as Record<string, unknown>)[name], x, `${path}.${name}`));
    }
  }
  return out;
}
