/** Property tests: the codec is lossless, decode only ever fails with a WireError, normalize → decode gives the job back. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  JsonNumber, JsonObject, type JsonValue, type NativeJson, PEERS, WireError, decodeJob, newJid, normalizeJob, parseJson, stringifyJson,
} from '../../src/wire/index.js';
import { formatNumber, quoteString } from '../../src/wire/json.js';
import { queueNameProblem } from '../../src/wire/queue-name.js';

/** Any string of UTF-16 code units, lone surrogates and control characters included. */
const anyString = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 20 });
const key = fc.oneof(anyString, fc.constantFrom('__proto__', 'constructor', 'prototype', '2', '10', ''));

const number = fc.oneof(
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((b) => new JsonNumber(b.toString())),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => new JsonNumber(formatNumber(d))),
  fc.constantFrom('1.0', '-0.0', '1.0e+20', '1.5e-07', '0.1', '1E5', '-0').map((t) => new JsonNumber(t)),
);

const { json } = fc.letrec<{ json: JsonValue }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    anyString,
    number,
    fc.array(tie('json'), { maxLength: 5 }),
    fc.array(fc.tuple(key, tie('json')), { maxLength: 5 }).map((pairs) => JsonObject.from(pairs)),
  ),
}));

describe('lossless codec', () => {
  it('parseJson(stringifyJson(x)) is x, and writes the same bytes again', () => {
    fc.assert(
      fc.property(json, (x) => {
        const text = stringifyJson(x);
        const back = parseJson(text);
        expect(stringifyJson(back)).toBe(text);
        expect(back).toEqual(x);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with JSON.parse on every value JSON.parse keeps exactly', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        expect(stringifyJson(parseJson(text))).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the writer\'s fast paths write what JSON.stringify writes', () => {
  it('quoteString, for any string (quotes, backslashes, controls, lone and paired surrogates)', () => {
    const tricky = fc.constantFrom('', '"', '\\', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udfff', '\ud83d\ude00', 'é', 'a"b');
    fc.assert(fc.property(fc.oneof(anyString, fc.string({ unit: 'binary' }), tricky), (s) => {
      expect(quoteString(s)).toBe(JSON.stringify(s));
    }), { numRuns: 5000 });
  });

  it('formatNumber, for any double (-0, subnormals, exponents, infinities and NaN included)', () => {
    fc.assert(fc.property(fc.oneof(fc.double(), fc.constantFrom(-0, 5e-324, 1e21, 1e-7, 2 ** 53 + 2, Infinity, NaN)), (d) => {
      expect(formatNumber(d)).toBe(JSON.stringify(d));
    }), { numRuns: 5000 });
  });

  it('Sidekiq jids are 24 lowercase hex digits, all distinct across many pool refills', () => {
    const jids = Array.from({ length: 20_000 }, () => newJid('sidekiq7'));
    for (const jid of jids) expect(jid).toMatch(/^[0-9a-f]{24}$/);
    expect(new Set(jids).size).toBe(jids.length);
  });
});

describe('decodeJob never throws anything but a WireError', () => {
  const onlyWireErrors = (payload: Buffer | string): void => {
    try {
      decodeJob(payload);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      expect(err.message.length).toBeGreaterThan(10);
    }
  };

  it('for arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => onlyWireErrors(Buffer.from(b))), { numRuns: 2000 });
  });

  it('for arbitrary strings', () => {
    fc.assert(fc.property(anyString, (s) => onlyWireErrors(s)), { numRuns: 2000 });
  });

  it('for arbitrary JSON', () => {
    fc.assert(fc.property(json, (x) => onlyWireErrors(stringifyJson(x))), { numRuns: 2000 });
  });

  it('for job-like hashes with arbitrary field values', () => {
    const field = fc.oneof(json, fc.constant(undefined));
    const job = fc.record({
      class: field, args: fc.oneof(field, json.map((x) => stringifyJson(x))), queue: field, jid: field, retry: field,
      retry_count: field, max_retry_count: fc.oneof(field, fc.constant(undefined)), created_at: field, enqueued_at: field,
      error_backtrace: field,
    }, { requiredKeys: [] });
    fc.assert(
      fc.property(job, (j) => {
        const doc = new JsonObject();
        for (const [k, v] of Object.entries(j)) if (v !== undefined) doc.set(k, v);
        onlyWireErrors(stringifyJson(doc));
      }),
      { numRuns: 3000 },
    );
  });

  it('for deeply nested args (arrays and objects mixed, up to 20,000 levels)', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 20_000 }), (kinds) => {
        const open = kinds.map((k) => (k ? '[' : '{"k":')).join('');
        const close = kinds.map((k) => (k ? ']' : '}')).reverse().join('');
        onlyWireErrors(`{"class":"A","args":[${open}1${close}]}`);
      }),
      { numRuns: 50 },
    );
  });

  it('for truncations of a real payload', () => {
    const text = '{"retry":true,"queue":"default","class":"HardWorker","args":[1,"two",{"k":[null,4611686018427387904]}],"jid":"609f1c7149d0d2afa5d6ce05","created_at":1795872486.590039}';
    for (let i = 0; i < text.length; i++) onlyWireErrors(text.slice(0, i));
  });
});

describe('normalize → decode round trip', () => {
  const { arg } = fc.letrec<{ arg: NativeJson }>((tie) => ({
    arg: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.string({ unit: 'grapheme', maxLength: 10 }),
      fc.maxSafeInteger(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
      fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).filter((b) => b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER)),
      fc.array(tie('arg'), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 6 }), tie('arg'), { maxKeys: 4 }),
    ),
  }));

  it('gives back class, args, queue and jid for every peer (Resque: below)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PEERS.filter((p) => p !== 'resque')),
        fc.string({ minLength: 1, maxLength: 30 }),
        fc.array(arg, { maxLength: 5 }),
        // Any name the queue-name rule accepts (src/wire/queue-name.ts): unicode included.
        fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }).filter((q) => q.isWellFormed() && queueNameProblem(q) === undefined),
        fc.option(fc.integer({ min: 1, max: 3600 }), { nil: undefined }),
        fc.option(fc.oneof(fc.uuid(), fc.stringMatching(/^[0-9a-f]{24}$/), fc.stringMatching(/^[0-9]{1,20}$/)), { nil: undefined }),
        (peer, cls, args, queue, delay, jid) => {
          fc.pre(cls.isWellFormed());
          const n = normalizeJob({ class: cls, args, queue, ...(delay === undefined ? {} : { in: delay }), ...(jid === undefined ? {} : { jid }) }, peer);
          const d = decodeJob(n.payload);
          expect(d.candidates).toContain(peer);
          expect(d.className).toBe(cls);
          expect(d.args).toEqual(args);
          expect(d.queue).toBe(queue);
          expect(d.jid).toBe(n.jid);
          expect(stringifyJson(d.doc())).toBe(n.payload);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('Resque: gives back class and args; the id is derived from the bytes (a Resque job carries no queue or jid)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }).filter((c) => c.isWellFormed() && !c.includes('-')), fc.array(arg, { maxLength: 5 }), (cls, args) => {
        const n = normalizeJob({ class: cls, args }, 'resque');
        const d = decodeJob(n.payload);
        expect(d.dialect).toBe('resque');
        expect(d.className).toBe(cls);
        expect(d.args).toEqual(args);
        expect(stringifyJson(d.doc())).toBe(n.payload);
        expect(n.jid).toMatch(/^[0-9a-f]{24}$/);
      }),
      { numRuns: 500 },
    );
  });
});
