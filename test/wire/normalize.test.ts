/**
 * normalizeJob: the job hash each peer's own client writes (compared with the captured producer
 * payloads key by key, type by type, unit by unit), and every rejection naming its field.
 */
import { describe, expect, it } from 'vitest';
import {
  JsonNumber, JsonObject, JsonString, type JobSpec, type JsonValue, type Peer, WireError, decodeJob, normalizeJob,
  parseObject, readTimestamp, stringifyJson, timeUnitOf, validateJobShape,
} from '../../src/wire/index.js';
import { commandPayloads } from './fixture-payloads.js';

/** The JSON kind of a token: floats and integers apart, as the peers' readers tell them apart. */
function kind(v: JsonValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'string' || v instanceof JsonString) return 'string';
  if (v instanceof JsonNumber) return v.isInteger ? 'integer' : 'float';
  return Array.isArray(v) ? 'array' : 'object';
}

const TIME_KEYS = new Set(['created_at', 'enqueued_at', 'failed_at', 'retried_at']);
const JID_FORMAT: Record<Peer, RegExp> = {
  sidekiq6: /^[0-9a-f]{24}$/,
  sidekiq7: /^[0-9a-f]{24}$/,
  sidekiq8: /^[0-9a-f]{24}$/,
  verk: /^[0-9]{2,20}$/,
  exq: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  resque: /^[0-9a-f]{24}$/, // derived from the bytes (Resque jobs have no jid)
};

/** Same keys in the same order, same kinds, same timestamp units, same jid format, equal non-random values. */
function expectSameShape(ours: string, theirs: string, peer: Peer): void {
  const a = parseObject(ours);
  const b = parseObject(theirs);
  expect(a.keys()).toEqual(b.keys());
  for (const key of b.keys()) {
    const va = a.get(key)!;
    const vb = b.get(key)!;
    expect({ key, kind: kind(va) }).toEqual({ key, kind: kind(vb) });
    if (TIME_KEYS.has(key)) {
      expect({ key, unit: timeUnitOf(va) }).toEqual({ key, unit: timeUnitOf(vb) });
      if (vb instanceof JsonNumber && !vb.isInteger) expect((va as JsonNumber).raw).toMatch(/\./);
    } else if (key === 'jid') {
      expect(va).toMatch(JID_FORMAT[peer]);
      expect(vb).toMatch(JID_FORMAT[peer]);
    } else {
      expect({ key, value: stringifyJson(va) }).toEqual({ key, value: stringifyJson(vb) });
    }
  }
  expect(validateJobShape(peer, JSON.parse(ours))).toBeNull();
}

/** "Now" of a captured payload, so timestamps also compare by value where the peer used one clock. */
function nowOf(payload: string, key = 'created_at'): number {
  return readTimestamp(parseObject(payload).get(key))!;
}

const SIDEKIQS: Array<[string, Peer]> = [['sidekiq-6.4.1', 'sidekiq6'], ['sidekiq-7.3.10', 'sidekiq7'], ['sidekiq-8.1.7', 'sidekiq8']];

describe.each(SIDEKIQS)('%s producer payloads', (set, peer) => {
  it('push-simple: Client.push("class" => "HardWorker", "args" => [1, "two"])', () => {
    const [theirs] = commandPayloads(`${set}/push-simple.json`, 'LPUSH', 'queue:default');
    const ours = normalizeJob({ class: 'HardWorker', args: [1, 'two'] }, peer, { now: nowOf(theirs!) });
    expectSameShape(ours.payload, theirs!, peer);
    expect(ours.runAtMs).toBeUndefined();
    if (peer === 'sidekiq8') expect(ours.payload).toBe(theirs!.replace(/"jid":"[0-9a-f]+"/, `"jid":"${ours.jid}"`));
  });

  it('push-retry-false', () => {
    const [theirs] = commandPayloads(`${set}/push-retry-false.json`, 'LPUSH', 'queue:default');
    expectSameShape(normalizeJob({ class: 'HardWorker', args: [1, 'two'], retry: false }, peer).payload, theirs!, peer);
  });

  it('push-queue-options: queue, retry N, backtrace, tags (in the order given)', () => {
    const [theirs] = commandPayloads(`${set}/push-queue-options.json`, 'LPUSH', 'queue:critical');
    const ours = normalizeJob({ class: 'HardWorker', args: [1, 'two'], queue: 'critical', retry: 3, backtrace: true, tags: ['a'] }, peer);
    expectSameShape(ours.payload, theirs!, peer);
    expect(ours.queue).toBe('critical');
  });

  it('push-at: the schedule member has no at and no enqueued_at', () => {
    const [theirs] = commandPayloads(`${set}/push-at.json`, 'ZADD', 'schedule');
    const now = nowOf(theirs!);
    const ours = normalizeJob({ class: 'HardWorker', args: [1, 'two'], at: (now + 60_000) / 1000 }, peer, { now });
    expectSameShape(ours.payload, theirs!, peer);
    expect(ours.runAtMs).toBeCloseTo(now + 60_000, 3);
    expect(normalizeJob({ class: 'HardWorker', args: [1, 'two'], in: 60 }, peer, { now }).runAtMs).toBe(now + 60_000);
  });

  it('push-bulk: one created_at for the batch, enqueued_at only when immediate', () => {
    const immediate = commandPayloads(`${set}/push-bulk.json`, 'LPUSH', 'queue:default');
    const scheduled = commandPayloads(`${set}/push-bulk.json`, 'ZADD', 'schedule');
    expect(immediate).toHaveLength(3);
    const createdAt = nowOf(immediate[0]!);
    const ours = [1, 2, 3].map((n) => normalizeJob({ class: 'HardWorker', args: [n] }, peer, { createdAt }));
    ours.forEach((o, i) => expectSameShape(o.payload, immediate[i]!, peer));
    expect(new Set(ours.map((o) => stringifyJson(o.doc.get('created_at')!))).size).toBe(1);
    expect(new Set(ours.map((o) => o.jid)).size).toBe(3);
    [4, 5].forEach((n, i) => {
      expectSameShape(normalizeJob({ class: 'HardWorker', args: [n], at: Date.now() / 1000 + 60 }, peer, { createdAt }).payload, scheduled[i]!, peer);
    });
  });
});

describe('verk-1.7.3 producer payloads', () => {
  it('enqueue: 13 keys, args as a JSON string, integer seconds, decimal jid', () => {
    const [theirs] = commandPayloads('verk-1.7.3/enqueue.json', 'LPUSH', 'queue:default');
    const now = nowOf(theirs!, 'enqueued_at');
    const ours = normalizeJob({ class: 'ExampleWorker', args: [1, 2], queue: 'default', retry: 5 }, 'verk', { now });
    expectSameShape(ours.payload, theirs!, 'verk');
    expect(ours.payload).toBe(theirs!.replace(/"jid":"\d+"/, `"jid":"${ours.jid}"`));
  });

  it('schedule: enqueued_at null', () => {
    const [theirs] = commandPayloads('verk-1.7.3/schedule.json', 'ZADD', 'schedule');
    const ours = normalizeJob({ class: 'ExampleWorker', args: [1, 2], retry: 5, in: 60 }, 'verk');
    expectSameShape(ours.payload, theirs!, 'verk');
    expect(ours.doc.get('enqueued_at')).toBeNull();
  });

  it('defaults max_retry_count to 25 on enqueue and leaves it null on schedule, as Verk does', () => {
    expect(normalizeJob({ class: 'A', args: [] }, 'verk').doc.get('max_retry_count')).toEqual(new JsonNumber('25'));
    expect(normalizeJob({ class: 'A', args: [], in: 60 }, 'verk').doc.get('max_retry_count')).toBeNull();
  });
});

describe('exq-0.23.0 producer payloads', () => {
  it('enqueue: args, class, enqueued_at, jid, queue, retry', () => {
    const [theirs] = commandPayloads('exq-0.23.0/enqueue.json', 'LPUSH', 'exq:queue:default');
    const now = nowOf(theirs!, 'enqueued_at');
    const ours = normalizeJob({ class: 'ExampleWorker', args: [1, 2] }, 'exq', { now });
    expectSameShape(ours.payload, theirs!, 'exq');
    expect(ours.payload).toBe(theirs!.replace(/"jid":"[^"]+"/, `"jid":"${ours.jid}"`));
  });

  it('enqueue-in: enqueued_at is the run time', () => {
    const [theirs] = commandPayloads('exq-0.23.0/enqueue-in.json', 'ZADD', 'exq:schedule');
    const now = Date.now();
    const ours = normalizeJob({ class: 'ExampleWorker', args: [1, 2], in: 60 }, 'exq', { now });
    expectSameShape(ours.payload, theirs!, 'exq');
    expect(readTimestamp(ours.doc.get('enqueued_at'))).toBeCloseTo(now + 60_000, 3);
  });
});

describe('encoding details', () => {
  it('writes whole float seconds with a decimal point', () => {
    const job = normalizeJob({ class: 'A', args: [] }, 'sidekiq7', { now: 1_700_000_000_000 });
    expect(job.payload).toContain('"created_at":1700000000.0,"enqueued_at":1700000000.0');
    expect(normalizeJob({ class: 'A', args: [] }, 'sidekiq8', { now: 1_700_000_000_000.7 }).payload).toContain('"created_at":1700000000000,');
    expect(normalizeJob({ class: 'A', args: [] }, 'verk', { now: 1_700_000_000_999 }).payload).toContain('"enqueued_at":1700000000,');
  });

  it('keeps awkward args exact', () => {
    const args = [4611686018427387904n, -9223372036854775808n, new JsonNumber('1.0'), 'é😀 é', { b: 1, 2: 3 }, [], {}, null, { __proto__x: 1 }];
    const job = normalizeJob({ class: 'A', args }, 'sidekiq7');
    expect(job.payload).toContain('"args":[4611686018427387904,-9223372036854775808,1.0,"é😀 é",{"2":3,"b":1},[],{},null,{"__proto__x":1}]');
    expect(decodeJob(job.payload).args.slice(0, 2)).toEqual([4611686018427387904n, -9223372036854775808n]);
  });

  it('writes an own __proto__ key of an args object as data', () => {
    const arg = JSON.parse('{"__proto__":{"polluted":1}}') as unknown;
    expect(normalizeJob({ class: 'A', args: [arg] }, 'sidekiq7').payload).toContain('"args":[{"__proto__":{"polluted":1}}]');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('takes a class name from a class', () => {
    class HardWorker {}
    expect(normalizeJob({ class: HardWorker, args: [] }, 'sidekiq7').doc.get('class')).toBe('HardWorker');
  });

  it('gives every job a fresh CSPRNG jid in the peer shape', () => {
    for (const peer of ['sidekiq6', 'sidekiq8', 'verk', 'exq'] as const) {
      const jids = new Set(Array.from({ length: 50 }, () => normalizeJob({ class: 'A', args: [] }, peer).jid));
      expect(jids.size).toBe(50);
      for (const j of jids) expect(j).toMatch(JID_FORMAT[peer]);
    }
  });

  it('writes a JsonObject arg through unchanged', () => {
    const obj = parseObject('{"b":1.0,"a":2}');
    expect(normalizeJob({ class: 'A', args: [obj] }, 'sidekiq7').payload).toContain('"args":[{"b":1.0,"a":2}]');
  });

  it('produces payloads that match the written schema of each peer', () => {
    for (const peer of ['sidekiq6', 'sidekiq7', 'sidekiq8', 'verk', 'exq'] as const) {
      for (const spec of [{ class: 'A', args: [1] }, { class: 'A', args: [], in: 30 }, { class: 'A', args: [], retry: false }] as JobSpec[]) {
        expect(validateJobShape(peer, JSON.parse(normalizeJob(spec, peer).payload))).toBeNull();
      }
    }
  });
});

describe('rejections name the field and what was expected', () => {
  class Point { constructor(readonly x = 1) {} }
  const sparse: unknown[] = [1];
  sparse[2] = 3;
  const cases: Array<[string, unknown, string, string, RegExp]> = [
    ['class missing', { args: [] }, 'invalid_job', 'class', /class is required: a string naming the job class, got undefined/],
    ['class empty', { class: '', args: [] }, 'invalid_job', 'class', /class must be a non-empty string.*got an empty string/],
    ['class a number', { class: 5, args: [] }, 'invalid_job', 'class', /class is required.*got number/],
    ['args missing', { class: 'A' }, 'invalid_args', 'args', /args must be an array, got undefined/],
    ['args a string', { class: 'A', args: '[1]' }, 'invalid_args', 'args', /args must be an array, got string/],
    ['args an object', { class: 'A', args: { a: 1 } }, 'invalid_args', 'args', /args must be an array, got object/],
    ['args holding undefined', { class: 'A', args: [1, undefined] }, 'invalid_args', 'args[1]', /args\[1\] must be a JSON-native value .*got undefined/],
    ['args holding a function', { class: 'A', args: [() => 1] }, 'invalid_args', 'args[0]', /got function/],
    ['args holding a Symbol', { class: 'A', args: [Symbol('s')] }, 'invalid_args', 'args[0]', /got symbol/],
    ['args holding a Date', { class: 'A', args: [new Date(0)] }, 'invalid_args', 'args[0]', /got Date/],
    ['args holding a Map', { class: 'A', args: [new Map()] }, 'invalid_args', 'args[0]', /got Map/],
    ['args holding NaN', { class: 'A', args: [NaN] }, 'invalid_args', 'args[0]', /args\[0\] must be a finite number, got NaN/],
    ['args holding Infinity', { class: 'A', args: [{ x: [-Infinity] }] }, 'invalid_args', 'args[0].x[0]', /must be a finite number, got -Infinity/],
    ['args holding a class instance', { class: 'A', args: [new Point()] }, 'invalid_args', 'args[0]', /got Point/],
    ['a sparse args array', { class: 'A', args: sparse }, 'invalid_args', 'args[1]', /args\[1\] is a hole in a sparse array/],
    ['queue empty', { class: 'A', args: [], queue: '' }, 'invalid_option', 'queue', /queue must be a non-empty string, got an empty string/],
    ['queue a number', { class: 'A', args: [], queue: 5 }, 'invalid_option', 'queue', /queue must be a non-empty string, got number/],
    ['queue in the worker\'s name:N syntax', { class: 'A', args: [], queue: 'low:priority' }, 'invalid_option', 'queue', /queue must be a name a kiqgate worker can consume: .*no.* ':'.*"low:priority"/],
    ['queue with a comma', { class: 'A', args: [], queue: 'critical,2' }, 'invalid_option', 'queue', /queue must be a name a kiqgate worker can consume: .*holds ','/],
    ['queue with a space', { class: 'A', args: [], queue: 'a b' }, 'invalid_option', 'queue', /holds whitespace/],
    ['queue with a newline', { class: 'A', args: [], queue: 'a\nb' }, 'invalid_option', 'queue', /holds a control character/],
    ['queue too long', { class: 'A', args: [], queue: 'q'.repeat(201) }, 'invalid_option', 'queue', /at most 200 characters, got 201/],
    ['retry "5"', { class: 'A', args: [], retry: '5' }, 'invalid_option', 'retry', /retry must be true, false or a non-negative integer, got string/],
    ['retry -1', { class: 'A', args: [], retry: -1 }, 'invalid_option', 'retry', /got -1/],
    ['at a string', { class: 'A', args: [], at: '2026-01-01' }, 'invalid_option', 'at', /at must be a Date or an epoch timestamp \(number\), got string/],
    ['at an invalid Date', { class: 'A', args: [], at: new Date('nope') }, 'invalid_option', 'at', /at must be a valid Date/],
    ['at NaN', { class: 'A', args: [], at: NaN }, 'invalid_option', 'at', /at must be a Date or an epoch timestamp/],
    ['at and in both', { class: 'A', args: [], at: Date.now(), in: 5 }, 'invalid_option', 'at', /either 'at' or 'in', not both/],
    ['in a string', { class: 'A', args: [], in: '5' }, 'invalid_option', 'in', /in must be a number of seconds, got string/],
    ['jid empty', { class: 'A', args: [], jid: '' }, 'invalid_option', 'jid', /jid must be a non-empty string/],
    ['tags a string', { class: 'A', args: [], tags: 'a' }, 'invalid_option', 'tags', /tags must be an array, got string/],
    ['not an object', 'A', 'invalid_job', undefined as unknown as string, /a job must be an object with 'class' and 'args', got string/],
  ];

  it.each(cases)('%s', (_name, spec, code, field, re) => {
    let err: unknown;
    try {
      normalizeJob(spec as JobSpec, 'sidekiq7');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WireError);
    const w = err as WireError;
    expect(w.code).toBe(code);
    expect(w.field).toBe(field);
    expect(w.message).toMatch(re);
  });

  it("refuses Sidekiq options for Verk and Exq (they would be dropped)", () => {
    expect(() => normalizeJob({ class: 'A', args: [], tags: ['x'] }, 'verk')).toThrow(/option 'tags' is not part of Verk's job format/);
    expect(() => normalizeJob({ class: 'A', args: [], backtrace: true }, 'exq')).toThrow(/Exq's job format/);
  });

  it('round-trips class, args, queue and jid through decode', () => {
    const spec = { class: 'A', args: [1, 'x', { y: [true, null] }], queue: 'q' };
    for (const peer of ['sidekiq6', 'sidekiq7', 'sidekiq8', 'verk', 'exq'] as const) {
      const n = normalizeJob(spec, peer);
      const d = decodeJob(n.payload);
      expect(d.candidates).toContain(peer);
      expect([d.className, d.args, d.queue, d.jid]).toEqual(['A', spec.args, 'q', n.jid]);
    }
  });

  it('builds the doc as a JsonObject', () => {
    expect(normalizeJob({ class: 'A', args: [] }, 'sidekiq7').doc).toBeInstanceOf(JsonObject);
  });
});
