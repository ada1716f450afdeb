/**
 * ActiveJob's argument serialization, both ways (wire/activejob): Ruby's number and BigDecimal
 * texts, each type's wire form, the marks of a Hash, and the one-line errors naming the field.
 */
import { describe, expect, it } from 'vitest';
import { WireError, parseJson, stringifyJson } from '../../src/wire/index.js';
import {
  AjFloat, RAILS_6_1_ARGUMENTS, activeJobPush, activeJobTarget, aj, decodeArguments, encodeArguments, rubyBigDecimalText, rubyFloatToken,
} from '../../src/wire/activejob/index.js';

const enc = (args: unknown[], target = RAILS_6_1_ARGUMENTS) => stringifyJson(encodeArguments(args, target));
const dec = (json: string) => decodeArguments(parseJson(json));
function wireError(f: () => unknown): WireError {
  try {
    f();
  } catch (err) {
    if (err instanceof WireError) return err;
    throw err;
  }
  throw new Error('no WireError thrown');
}

describe('ActiveJob arguments', () => {
  it('writes Floats and BigDecimals as Ruby does', () => {
    expect([2, -0, 1e20, 1.5e-5, 1e15, 999999999999999, 0.0001, 9.9e-5, 1.5].map(rubyFloatToken))
      .toEqual(['2.0', '-0.0', '1.0e+20', '1.5e-05', '1.0e+15', '999999999999999.0', '0.0001', '9.9e-05', '1.5']);
    expect(['1.23', '100', '0.001', '-1.5', '0', '1e3'].map((t) => rubyBigDecimalText(t))).toEqual(['0.123e1', '0.1e3', '0.1e-2', '-0.15e1', '0.0', '0.1e4']);
  });

  it('writes each type in its 6.1 wire form, Hash markers last', () => {
    expect(enc([1, 2n ** 64n, 1.5e-5, aj.float(2), 'x', null, aj.symbol('s'), aj.date('2024-02-29'), aj.module('Comparable'), aj.globalId('gid://app/Person/1')]))
      .toBe('[1,18446744073709551616,1.5e-05,2.0,"x",null,{"_aj_serialized":"ActiveJob::Serializers::SymbolSerializer","value":"s"},{"_aj_serialized":"ActiveJob::Serializers::DateSerializer","value":"2024-02-29"},{"_aj_serialized":"ActiveJob::Serializers::ModuleSerializer","value":"Comparable"},{"_aj_globalid":"gid://app/Person/1"}]');
    expect(enc([{ a: 1 }, aj.kwargs({ name: 'x' }), aj.symbolKeys({ k: 1, s: 2 }, ['k']), aj.indifferent({ x: 1 })]))
      .toBe('[{"a":1,"_aj_symbol_keys":[]},{"name":"x","_aj_ruby2_keywords":["name"]},{"k":1,"s":2,"_aj_symbol_keys":["k"]},{"x":1,"_aj_hash_with_indifferent_access":true}]');
    expect(enc([aj.bigDecimal('1.23')])).toBe('["0.123e1"]');
    expect(enc([aj.bigDecimal('1.23')], activeJobTarget('rails-7.2/sidekiq-7'))).toBe('[{"_aj_serialized":"ActiveJob::Serializers::BigDecimalSerializer","value":"0.123e1"}]');
    expect(enc([aj.timeWithZone('2024-01-02T03:04:05.000000000+09:00', 'Asia/Tokyo')], activeJobTarget('rails-7.1/sidekiq-7')))
      .toBe('[{"_aj_serialized":"ActiveJob::Serializers::TimeWithZoneSerializer","value":"2024-01-02T03:04:05.000000000+09:00","time_zone":"Asia/Tokyo"}]');
  });

  it('reads back what it writes, keeping integral Floats, key order and marks', () => {
    const json = '[2.0,-0.0,{"b":1,"2":2,"_aj_symbol_keys":["b"]},{"x":1},{"_aj_serialized":"ActiveJob::Serializers::RangeSerializer","begin":1,"end":5,"exclude_end":true}]';
    const v = dec(json);
    expect(v[0]).toBeInstanceOf(AjFloat);
    expect(aj.hashInfo(v[2] as object)).toEqual({ mark: 'symbol_keys', symbolKeys: ['b'], order: ['b', '2'] });
    expect(aj.hashInfo(v[3] as object)).toEqual({ mark: 'none', symbolKeys: [] });
    expect(enc(v, activeJobTarget('rails-7.0/sidekiq-6'))).toBe(json);
  });

  it('refuses bad input in one line naming the field', () => {
    expect(wireError(() => dec('[{"_aj_serialized":"MySerializer","value":1}]')).field).toBe('arguments[0]._aj_serialized');
    expect(wireError(() => dec('[1,{"_aj_globalid":"Person/1"}]')).field).toBe('arguments[1]._aj_globalid');
    expect(wireError(() => dec('[{"_aj_serialized":"ActiveJob::Serializers::DateSerializer","value":"yesterday"}]')).field).toBe('arguments[0].value');
    expect(wireError(() => dec('[{"a":1,"_aj_symbol_keys":"a"}]')).field).toBe('arguments[0]._aj_symbol_keys');
    expect(wireError(() => enc([{ _aj_globalid: 1, b: 2 }])).field).toBe('args[0]._aj_globalid');
    expect(wireError(() => enc([aj.range(1, 2)])).message).toMatch(/Range.*Rails 7\.0/);
    expect(wireError(() => enc([new Map()])).message).toMatch(/args\[0\] cannot be an ActiveJob argument: got Map/);
    expect(wireError(() => enc([NaN])).field).toBe('args[0]');
    expect(wireError(() => activeJobPush({ activeJob: 'lower' }, Date.now())).field).toBe('activeJob');
    expect(wireError(() => activeJobPush({ activeJob: 'A', target: 'rails-5.2/sidekiq-6' }, Date.now())).field).toBe('target');
  });

  it('pushes perform_later\'s key order for 6.1 and the Setter\'s for a Sidekiq 8 target', () => {
    const p6 = activeJobPush({ activeJob: 'GreetJob', args: ['w'] }, 1796682801941.5);
    expect(Object.keys(JSON.parse(p6.payload) as object)).toEqual(['retry', 'queue', 'class', 'wrapped', 'args', 'jid', 'created_at', 'enqueued_at']);
    expect(p6.payload).toContain('"enqueued_at":"2026-12-07T22:33:21Z"}],');
    const p8 = activeJobPush({ activeJob: 'GreetJob', in: 60, target: 'rails-8.1/sidekiq-8' }, 1796682801941.5);
    const d = JSON.parse(p8.payload) as Record<string, unknown>;
    expect(Object.keys(d)).toEqual(['retry', 'queue', 'wrapped', 'args', 'class', 'jid', 'created_at']);
    expect(d.class).toBe('Sidekiq::ActiveJob::Wrapper');
    expect(d.created_at).toBe(1796682801941);
    expect((d.args as Array<Record<string, unknown>>)[0]!.scheduled_at).toBe('2026-12-07T22:34:21.941500000Z');
    expect(p8.runAtMs).toBe(1796682861941.5);
  });
});
