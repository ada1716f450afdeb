/** The lossless JSON codec: peers' bytes back unchanged, and the awkward values handlers see. */
import { describe, expect, it } from 'vitest';
import {
  JsonNumber, JsonObject, JsonString, WireError, fromNative, parseJson, parseObject, stringifyJson, toNative,
} from '../../src/wire/index.js';
import { jobPayloads } from './fixture-payloads.js';

const roundTrip = (text: string): string => stringifyJson(parseJson(text));

function wireError(fn: () => unknown): WireError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WireError) return err;
    throw err;
  }
  throw new Error('expected a WireError, nothing was thrown');
}

describe('round trip of every fixture payload', () => {
  const payloads = jobPayloads();

  it('finds the payloads of every peer', () => {
    const systems = new Set(payloads.map((p) => `${p.system}-${p.version}`));
    expect([...systems].sort()).toEqual(['activejob-6.1.7.10', 'exq-0.23.0', 'resque-2.7.0', 'resque-3.0.0', 'sidekiq-6.4.1', 'sidekiq-7.3.10', 'sidekiq-8.1.7', 'verk-1.7.3']);
    expect(payloads.length).toBeGreaterThan(200);
  });

  it.each(payloads.map((p) => [`${p.file} ${p.where}`, p.text] as const))('%s', (_name, text) => {
    expect(roundTrip(text)).toBe(text);
    // Re-parsing from the bytes as Redis holds them gives the same bytes.
    expect(Buffer.from(roundTrip(Buffer.from(text, 'utf8').toString('utf8')), 'utf8').equals(Buffer.from(text, 'utf8'))).toBe(true);
  });
});

describe('big integers', () => {
  const cases = [
    ['2^62', '4611686018427387904', 4611686018427387904n],
    ['-2^63', '-9223372036854775808', -9223372036854775808n],
    ['2^64', '18446744073709551616', 18446744073709551616n],
  ] as const;
  it.each(cases)('%s stays exact and becomes a BigInt', (_n, digits, big) => {
    const text = `[${digits}]`;
    expect(roundTrip(text)).toBe(text);
    expect(toNative(parseJson(text))).toEqual([big]);
    expect(stringifyJson(fromNative([big], 'args'))).toBe(text);
  });

  it('keeps 2^53 - 1 a plain number and 2^53 + 1 a BigInt', () => {
    expect(toNative(parseJson('[9007199254740991,9007199254740993]'))).toEqual([9007199254740991, 9007199254740993n]);
  });
});

describe('number tokens', () => {
  it('keeps 1.0 and 1 apart', () => {
    const v = parseJson('[1.0,1,1e20,1.0e+20,-0.0,1.5e-07]') as JsonNumber[];
    expect(v.map((n) => n.raw)).toEqual(['1.0', '1', '1e20', '1.0e+20', '-0.0', '1.5e-07']);
    expect(v[0]!.isInteger).toBe(false);
    expect(v[1]!.isInteger).toBe(true);
    expect(roundTrip('[1.0,1,1e20,1.0e+20,-0.0,1.5e-07]')).toBe('[1.0,1,1e20,1.0e+20,-0.0,1.5e-07]');
  });

  it('writes a JsonNumber token as given through fromNative', () => {
    expect(stringifyJson(fromNative([new JsonNumber('1.0'), 1], 'args'))).toBe('[1.0,1]');
  });
});

describe('strings', () => {
  it('keeps emoji, combining marks and raw U+2028 as raw UTF-8', () => {
    const text = '["é😀 combining é"," ","<>&/"]';
    expect(roundTrip(text)).toBe(text);
    expect(toNative(parseJson(text))).toEqual(['é😀 combining é', ' ', '<>&/']);
  });

  it('keeps cjson-style \\/ escapes and \\u escapes that JSON.stringify would not write', () => {
    const text = '{"url":"http:\\/\\/x\\/y","e":"\\u00e9","\\u0041":1}';
    expect(roundTrip(text)).toBe(text);
    const obj = parseObject(text);
    expect(obj.get('url')).toBeInstanceOf(JsonString);
    expect(toNative(obj)).toEqual({ url: 'http://x/y', e: 'é', A: 1 });
  });

  it('keeps lone surrogate escapes (raw and escaped)', () => {
    const escaped = '["\\ud83d","x\\udc00y"]';
    expect(roundTrip(escaped)).toBe(escaped);
    const raw = `["${'\ud83d'}"]`;
    expect(roundTrip(raw)).toBe(raw);
    expect(parseJson(raw)).toEqual([new JsonString('\ud83d', `"${'\ud83d'}"`)]);
  });

  it('refuses a caller string with a lone surrogate (it cannot be UTF-8)', () => {
    const err = wireError(() => fromNative(['ok', '\ud800'], 'args'));
    expect(err.code).toBe('invalid_args');
    expect(err.field).toBe('args[1]');
  });

  it('carries a 1 MB string unchanged', () => {
    const big = 'x'.repeat(1024 * 1024 - 3) + 'é';
    const text = JSON.stringify([big]);
    expect(roundTrip(text)).toBe(text);
    expect((toNative(parseJson(text)) as string[])[0]).toBe(big);
  });

  it('keeps control character escapes as Ruby writes them', () => {
    const text = '["ctl \\u0000 \\n \\t \\\\ \\"q\\" \\u001f"]';
    expect(roundTrip(text)).toBe(text);
  });
});

describe('containers', () => {
  it('keeps nested hashes, empty containers and null', () => {
    const text = '[{"nested":{"a":[null,true,false],"":{}}},[],{},null]';
    expect(roundTrip(text)).toBe(text);
    expect(toNative(parseJson(text))).toEqual([{ nested: { a: [null, true, false], '': {} } }, [], {}, null]);
    expect(Array.isArray((toNative(parseJson('[[]]')) as unknown[])[0])).toBe(true);
  });

  it('keeps key order, integer-like keys included', () => {
    const text = '{"b":1,"2":3,"a":{"10":1,"9":2}}';
    expect(roundTrip(text)).toBe(text);
    expect(parseObject(text).keys()).toEqual(['b', '2', 'a']);
  });

  it('keeps duplicate keys as written; get() returns the last, as JSON.parse does', () => {
    const text = '{"a":1,"a":2}';
    expect(roundTrip(text)).toBe(text);
    expect((parseObject(text).get('a') as JsonNumber).raw).toBe('2');
  });

  it('makes __proto__ and constructor own data properties, never prototype changes', () => {
    const text = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}';
    expect(roundTrip(text)).toBe(text);
    const native = toNative(parseJson(text)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(native)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(native, '__proto__')).toBe(true);
    expect(native.__proto__).toEqual({ polluted: 'yes' });
    expect(Object.keys(native)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((native as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('writes a caller object with an own __proto__ key as data', () => {
    const spec = JSON.parse('{"__proto__":{"x":1}}') as unknown;
    expect(stringifyJson(fromNative(spec, 'args[0]'))).toBe('{"__proto__":{"x":1}}');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('builds objects with JsonObject.from in the given order', () => {
    expect(stringifyJson(JsonObject.from([['z', new JsonNumber('1')], ['a', null]]))).toBe('{"z":1,"a":null}');
  });
});

describe('malformed text', () => {
  it('rejects nesting deeper than the limit with a typed error', () => {
    const deep = '['.repeat(600) + ']'.repeat(600);
    const err = wireError(() => parseJson(deep));
    expect(err.code).toBe('invalid_json');
    expect(err.message).toMatch(/nested deeper than 512 levels/);
    expect(roundTrip('['.repeat(512) + ']'.repeat(512))).toBe('['.repeat(512) + ']'.repeat(512));
  });

  it('rejects 10,000 levels without overflowing the stack', () => {
    const err = wireError(() => parseJson('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)));
    expect(err.code).toBe('invalid_json');
  });

  it.each([
    ['truncated', '{"class":"A","args":[1]', /unexpected end of input|expected ','/],
    ['trailing data', '{} x', /unexpected data after the JSON value/],
    ['bare word', 'nope', /unexpected token/],
    ['unterminated string', '["abc', /unterminated string/],
    ['raw control character', '["a\u0001"]', /control character/],
    ['bad escape', '["\\x"]', /invalid escape/],
    ['NaN', '[NaN]', /unexpected token/],
    ['leading zero', '[01]', /expected ','/],
  ])('%s', (_name, text, re) => {
    const err = wireError(() => parseJson(text));
    expect(err.code).toBe('invalid_json');
    expect(err.message).toMatch(re);
    expect(err.message).toMatch(/at offset \d+/);
  });
});
