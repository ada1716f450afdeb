/** decodeJob: every payload a peer wrote decodes to its dialect; every malformed one gets its own error. */
import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { WireError, decodeJob, stringifyJson, type WireErrorCode } from '../../src/wire/index.js';
import { fixturePayloads, jobPayloads, peerOf } from './fixture-payloads.js';

function decodeError(payload: Buffer | string, opts?: { maxBytes?: number }): WireError {
  try {
    decodeJob(payload, opts);
  } catch (err) {
    if (err instanceof WireError) return err;
    throw err;
  }
  throw new Error('expected a WireError, the payload decoded');
}

describe('fixture payloads', () => {
  const payloads = jobPayloads();

  it.each(payloads.map((p) => [`${p.file} ${p.where}`, p] as const))('%s', (_name, p) => {
    const job = decodeJob(p.bytes);
    const peer = peerOf(p.system, p.version);
    expect(job.candidates).toContain(peer);
    if (peer === 'sidekiq8' || peer === 'verk' || peer === 'exq') expect(job.dialect).toBe(peer);
    expect(job.raw.equals(p.bytes)).toBe(true);
    expect(stringifyJson(job.doc())).toBe(p.text);
    const plain = JSON.parse(p.text) as Record<string, unknown>;
    expect(job.className).toBe(plain.class);
    expect(job.jid).toBe(plain.jid);
    expect(job.queue).toBe(plain.queue);
    const args = typeof plain.args === 'string' ? (JSON.parse(plain.args) as unknown) : plain.args;
    if (p.file !== 'sidekiq-6.4.1-kiqgate/push-awkward-args.json' && p.file !== 'sidekiq-6.4.1-kiqgate/push-bulk-mixed.json') {
      expect(job.args).toEqual(args);
    }
  });

  it('the payloads that are not JSON are refused with invalid_json', () => {
    const bad = fixturePayloads().filter((p) => {
      const t = p.bytes.toString('utf8');
      if (!t.startsWith('{') && !/not json/.test(t)) return false;
      try {
        JSON.parse(t);
        return false;
      } catch {
        return true;
      }
    });
    expect(bad.length).toBeGreaterThan(2);
    for (const p of bad) expect(decodeError(p.bytes).code).toBe(isUtf8(p.bytes) ? 'invalid_json' : 'invalid_utf8'); // Resque's malformed-job has both
  });

  it('reads the awkward args Sidekiq 6.4.1 wrote exactly (big integers as BigInt)', () => {
    const p = jobPayloads().find((x) => x.file === 'sidekiq-6.4.1-kiqgate/push-awkward-args.json')!;
    const job = decodeJob(p.bytes);
    expect(job.args.slice(0, 9)).toEqual([1, 1, 4611686018427387904n, -9223372036854775808n, 18446744073709551616n, 1.5e-7, 1e20, -0, 0.1]);
    expect(stringifyJson(job.doc())).toBe(p.text);
  });

  it('reads timestamps in the unit each peer wrote', () => {
    const at = (file: string): number | undefined => decodeJob(jobPayloads().find((x) => x.file === file)!.bytes).timestamp('enqueued_at');
    expect(at('sidekiq-6.4.1/push-simple.json')).toBeCloseTo(1795872486590.2436, 3);
    expect(at('sidekiq-8.1.7/push-simple.json')).toBe(1795874305758);
    expect(at('verk-1.7.3/enqueue.json')).toBe(1795872282000);
    expect(at('exq-0.23.0/enqueue.json')).toBeCloseTo(1795875554862.787, 3);
  });
});

describe('dialect detection', () => {
  it.each([
    ['Sidekiq 6/7: float seconds', '{"retry":true,"queue":"default","class":"A","args":[],"jid":"0123456789abcdef01234567","created_at":1795872486.5}', 'sidekiq7', ['sidekiq6', 'sidekiq7']],
    ['Sidekiq 6: MIME backtrace', '{"class":"A","args":[],"error_backtrace":"eJyLjgUAARUAuQ==\\n"}', 'sidekiq6', ['sidekiq6', 'sidekiq7']],
    ['Sidekiq 8: integer ms', '{"class":"A","args":[],"created_at":1795874305758}', 'sidekiq8', ['sidekiq8']],
    ['Sidekiq 7 job retried by 8 (mixed, valid)', '{"class":"A","args":[],"created_at":1795872486.5,"failed_at":1795872486.6,"retried_at":1795874305758,"retry_count":1,"error_message":"x","error_class":"E"}', 'sidekiq8', ['sidekiq8']],
    ['Verk: args string', '{"args":"[1]","class":"A"}', 'verk', ['verk']],
    ['Verk: max_retry_count', '{"args":[1],"class":"A","max_retry_count":null}', 'verk', ['verk']],
    ['Exq: UUID jid', '{"args":[1],"class":"A","jid":"c675dda2-8a82-44fc-a143-b62c5b695705"}', 'exq', ['exq']],
    ['Exq with a caller-supplied jid (its six fresh-job keys)', '{"args":[1],"class":"A","enqueued_at":1795875554.862787,"jid":"my-job-1","queue":"default","retry":25}', 'exq', ['exq']],
    ['Exq: processor (a re-encoded failure)', '{"args":[1],"class":"A","jid":"j","processor":null}', 'exq', ['exq']],
    // Bug fixed: a Sidekiq job with a caller-supplied UUID jid was taken for Exq, and its failure
    // entry was rebuilt in Exq's 13 keys (created_at, backtrace and error_class lost).
    ['Sidekiq with a caller-supplied UUID jid', '{"retry":true,"queue":"default","class":"A","args":[],"jid":"c675dda2-8a82-44fc-a143-b62c5b695705","created_at":1795872486.5}', 'sidekiq7', ['sidekiq6', 'sidekiq7']],
    ['Sidekiq 8 with a caller-supplied UUID jid', '{"retry":true,"queue":"default","class":"A","args":[],"jid":"c675dda2-8a82-44fc-a143-b62c5b695705","created_at":1795874305758}', 'sidekiq8', ['sidekiq8']],
  ])('%s', (_name, text, dialect, candidates) => {
    const job = decodeJob(text);
    expect(job.dialect).toBe(dialect);
    expect(job.candidates).toEqual(candidates);
  });
});

describe('decoded fields', () => {
  it('reads retry as Sidekiq does', () => {
    const retry = (v: string): unknown => decodeJob(`{"class":"A","args":[],"retry":${v}}`).retry;
    expect(retry('true')).toBe(true);
    expect(retry('false')).toBe(false);
    expect(retry('3')).toBe(3);
    expect(retry('0')).toBe(0);
    expect(retry('"5"')).toBe(true); // a non-Integer truthy value means the default maximum
    expect(retry('null')).toBeUndefined();
  });

  it("reads Verk's max_retry_count as the retry setting", () => {
    expect(decodeJob('{"args":"[]","class":"A","max_retry_count":5,"retry_count":1}').retry).toBe(5);
    expect(decodeJob('{"args":"[]","class":"A","max_retry_count":null}').retry).toBeUndefined();
  });

  it('accepts extra keys, as every peer does', () => {
    expect(decodeJob('{"class":"A","args":[],"bid":"x","custom":{"a":1},"tags":["t"]}').fields.custom).toEqual({ a: 1 });
    expect(decodeJob('{"args":"[]","class":"A","max_retry_count":1,"extra":1}').dialect).toBe('verk');
  });

  it('keeps __proto__ in args as data', () => {
    const job = decodeJob('{"class":"A","args":[{"__proto__":{"polluted":1}}]}');
    expect(Object.keys(job.args[0] as object)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('malformed payloads', () => {
  const cases: Array<[string, Buffer | string, WireErrorCode, string | undefined, RegExp]> = [
    ['invalid UTF-8 bytes', Buffer.from([0x7b, 0x22, 0x63, 0xff, 0xfe, 0x22, 0x7d]), 'invalid_utf8', undefined, /not valid UTF-8/],
    ['a lone continuation byte', Buffer.concat([Buffer.from('{"class":"A","args":["'), Buffer.from([0x80]), Buffer.from('"]}')]), 'invalid_utf8', undefined, /UTF-8/],
    ['truncated JSON', '{"class":"A","args":[1', 'invalid_json', undefined, /not valid JSON.*offset/],
    ['not JSON', 'this is not json', 'invalid_json', undefined, /not valid JSON/],
    ['empty payload', '', 'invalid_json', undefined, /unexpected end of input/],
    ['an array', '[1,2]', 'invalid_job', undefined, /payload must be a JSON object \(a job hash\), got array/],
    ['a string', '"job"', 'invalid_job', undefined, /got string/],
    ['null', 'null', 'invalid_job', undefined, /got null/],
    ['class missing', '{"args":[]}', 'invalid_job', 'class', /class must be a non-empty string naming the job class, got nothing \(the field is missing\)/],
    ['class a number', '{"class":5,"args":[]}', 'invalid_job', 'class', /class must be a non-empty string naming the job class, got 5/],
    ['class empty', '{"class":"","args":[]}', 'invalid_job', 'class', /class must be .*, got an empty string/],
    ['class null', '{"class":null,"args":[]}', 'invalid_job', 'class', /class must be .*, got null/],
    ['args missing', '{"class":"A"}', 'invalid_job', 'args', /args must be an array, got nothing/],
    ['args an object', '{"class":"A","args":{"a":1}}', 'invalid_job', 'args', /args must be an array, got object/],
    ['args a number', '{"class":"A","args":5}', 'invalid_job', 'args', /args must be an array, got 5/],
    ['args a string (Verk-style) that is not JSON', '{"class":"A","args":"hello"}', 'invalid_job', 'args', /args is a string but not JSON/],
    ['Verk args string holding an object', '{"class":"A","args":"{\\"a\\":1}"}', 'invalid_job', 'args', /args must be an array .*got a string holding object/],
    ['Verk args an object', '{"class":"A","args":{},"max_retry_count":1}', 'invalid_job', 'args', /args must be an array \(or Verk's JSON string holding one\), got object/],
    ['Verk max_retry_count a string', '{"class":"A","args":"[]","max_retry_count":"5"}', 'invalid_job', 'max_retry_count', /max_retry_count must be a non-negative integer or null, got string/],
    ['queue a number', '{"class":"A","args":[],"queue":7}', 'invalid_job', 'queue', /queue must be a string, got 7/],
    ['jid a number', '{"class":"A","args":[],"jid":123}', 'invalid_job', 'jid', /jid must be a string, got 123/],
    ['retry_count a float', '{"class":"A","args":[],"retry_count":1.5}', 'invalid_job', 'retry_count', /retry_count must be an integer, got 1.5/],
    ['created_at an object', '{"class":"A","args":[],"created_at":{}}', 'invalid_job', 'created_at', /created_at must be a timestamp/],
  ];

  it.each(cases)('%s', (_name, payload, code, field, re) => {
    const err = decodeError(payload);
    expect(err.code).toBe(code);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(re);
  });

  it('refuses a payload over the size limit before reading it', () => {
    const big = `{"class":"A","args":["${'x'.repeat(2000)}"]}`;
    const err = decodeError(big, { maxBytes: 1000 });
    expect(err.code).toBe('too_large');
    expect(err.message).toMatch(/payload is 2\d{3} bytes, over the 1000-byte limit/);
    expect(decodeJob(big, { maxBytes: 0 }).className).toBe('A');
  });

  // Bug fixed: JSON.parse has no depth limit, so a payload nested 513+ levels decoded and then
  // doc() threw later (while building its failure entry), and 10,000 levels threw a RangeError
  // from the recursive big-integer walk instead of a WireError.
  it.each([513, 600, 10_000, 100_000])('refuses args nested %i levels at decode, with a WireError', (levels) => {
    const text = `{"class":"A","args":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;
    const err = decodeError(text);
    expect(err.code).toBe('invalid_json');
    expect(err.message).toMatch(/nested deeper than 512 levels at offset/);
  });

  it('accepts exactly the nesting the lossless parser accepts', () => {
    const text = `{"class":"A","args":${'['.repeat(511)}${']'.repeat(511)}}`;
    expect(stringifyJson(decodeJob(text).doc())).toBe(text);
  });

  it("refuses a Verk args string nested too deeply, naming args", () => {
    const inner = '['.repeat(600) + ']'.repeat(600);
    const err = decodeError(JSON.stringify({ args: inner, class: 'A', max_retry_count: 1 }));
    expect([err.code, err.field]).toEqual(['invalid_job', 'args']);
    expect(err.message).toMatch(/nested deeper than 512 levels/);
  });

  it('refuses more than 8 MiB by default', () => {
    const err = decodeError(Buffer.alloc(8 * 1024 * 1024 + 1, 0x20));
    expect(err.code).toBe('too_large');
  });
});
