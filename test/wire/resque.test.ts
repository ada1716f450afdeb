/**
 * dialects/resque.ts against the exact bytes Resque 3.0.0 and 2.7.0 wrote (fixtures/resque-*).
 * Ruby Resque is not installable here (Debian has no ruby-resque): the fixtures are the proof.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobPayloads } from '../../src/compat/extract.js';
import {
  decodeResqueJob, formatFailedAt, formatHeartbeat, formatRunAt, formatStartedAt, registerPlan, resque,
  resqueFailureEntry, resqueJobId, resqueKeys, resqueUndecodableOriginal, resqueWorkerId, undecodableFailureEntry,
  unregisterPlan, workingValue,
} from '../../src/wire/dialects/resque.js';
import { DETECTION_ORDER, KeyLayout, WireError, decodeJob, detectedDialect, dialectFor, normalizeJob, parseJson, stringifyJson, toNative, undecodableOriginal } from '../../src/wire/index.js';
import { argvStrings, FIXTURES_DIR, loadFixture } from '../support/fixtures.js';

const VERSIONS = ['resque-3.0.0', 'resque-2.7.0'] as const;

/** Every RPUSH of `key` in a fixture's commands, as [key, value] strings. */
function rpushes(set: string, scenario: string, key: string): string[] {
  return loadFixture(set, scenario).commands.map(argvStrings).filter((a) => a[0] === 'rpush' && a[1] === key).map((a) => a[2]!);
}

function thrown(f: () => unknown): WireError {
  try {
    f();
  } catch (err) {
    return err as WireError;
  }
  throw new Error('did not throw');
}

describe.each(VERSIONS)('%s: produce', (set) => {
  it('writes byte for byte what Resque.enqueue wrote (class, args; no spaces)', () => {
    const [theirs] = rpushes(set, 'enqueue', 'resque:queue:default');
    const job = normalizeJob({ class: 'HardJob', args: [1, 'two', { three: 3 }] }, 'resque');
    expect(job.payload).toBe(theirs);
    expect(job.queue).toBe('default');
    expect(job.jid).toBe(resqueJobId(theirs!));
  });

  it('writes byte for byte what Resque.enqueue_to wrote, in order', () => {
    const theirs = rpushes(set, 'enqueue-to', 'resque:queue:critical');
    const ours = [['first', 1], ['second', 2]].map((args) => normalizeJob({ class: 'HardJob', args, queue: 'critical' }, 'resque').payload);
    expect(ours).toEqual(theirs);
  });
});

describe('produce: what Resque cannot carry is refused, naming the field', () => {
  it.each([
    ['at', { at: new Date() }, /resque-scheduler/],
    ['in', { in: 60 }, /resque-scheduler/],
    ['retry', { retry: 3 }, /no retries/],
    ['jid', { jid: 'abc' }, /no id/],
    ['tags', { tags: ['x'] }, /not part of Resque's job format/],
  ])('%s', (field, extra, message) => {
    const err = thrown(() => normalizeJob({ class: 'C', args: [], ...extra }, 'resque'));
    expect(err).toBeInstanceOf(WireError);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });

  it('class, args and queue are checked', () => {
    expect(thrown(() => normalizeJob({ class: '', args: [] }, 'resque')).field).toBe('class');
    expect(thrown(() => normalizeJob({ class: 'C', args: 'x' as never }, 'resque')).field).toBe('args');
    expect(thrown(() => normalizeJob({ class: 'C', args: [], queue: 'a b' }, 'resque')).field).toBe('queue');
  });

  it('keeps big integers and float tokens as given', () => {
    const args = parseJson('[4611686018427387904,18446744073709551616,1.0e-07,-0.0,"0.1e17"]');
    expect(normalizeJob({ class: 'C', args: args as unknown[] }, 'resque').payload).toBe('{"class":"C","args":[4611686018427387904,18446744073709551616,1.0e-07,-0.0,"0.1e17"]}');
  });
});

describe('detection', () => {
  it('every {"class","args"} payload Resque wrote is detected as resque; every job of the other peers keeps its dialect', () => {
    let resque = 0;
    let others = 0;
    for (const set of readdirSync(FIXTURES_DIR)) {
      if (!/^(sidekiq|verk|exq|resque)-/.test(set)) continue;
      for (const file of readdirSync(join(FIXTURES_DIR, set)).filter((f) => f.endsWith('.json'))) {
        for (const p of jobPayloads(loadFixture(set, file.replace(/\.json$/, '')))) {
          let job;
          try { job = decodeJob(p.bytes, { maxBytes: 0 }); } catch { continue; }
          if (set.startsWith('resque-')) {
            const plain = JSON.parse(p.bytes.toString()) as Record<string, unknown>;
            if (Object.keys(plain).join() !== 'class,args') continue; // a shape test (extra keys): read as Resque reads it below
            expect(job.dialect, `${set}/${file} ${p.where}`).toBe('resque');
            resque++;
          } else {
            expect(job.dialect, `${set}/${file} ${p.where}`).not.toBe('resque');
            others++;
          }
        }
      }
    }
    expect(resque).toBeGreaterThan(10);
    expect(others).toBeGreaterThan(50);
  });
});

describe.each(VERSIONS)('%s: read every job payload as a Resque worker does', (set) => {
  const scenarios = readdirSync(join(FIXTURES_DIR, set)).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));

  it('every decodable payload keeps its exact bytes (round trip) and its args (exact)', () => {
    let n = 0;
    for (const s of scenarios) {
      for (const p of jobPayloads(loadFixture(set, s))) {
        let job;
        try { job = decodeResqueJob(p.bytes, { maxBytes: 0 }); } catch { continue; }
        expect(stringifyJson(job.doc()), `${s} ${p.where}`).toBe(p.bytes.toString('utf8'));
        const args = job.doc().get('args');
        if (Array.isArray(args)) expect(job.args, `${s} ${p.where}`).toEqual(toNative(args));
        expect(job.jid).toBe(resqueJobId(p.bytes));
        n++;
      }
    }
    expect(n).toBeGreaterThan(15);
  });

  it('the malformed shapes: splat as Ruby does, dashed names camelized, extra keys ignored; what Resque cannot run is a WireError', () => {
    const entries = rpushes(set, 'malformed-job-shapes', 'resque:queue:default');
    const read = (s: string) => { try { const j = decodeResqueJob(s); return [j.className, j.args]; } catch (e) { return (e as WireError).code; } };
    expect(entries.map(read)).toEqual([
      'invalid_job', // null
      'invalid_job', // "just a string"
      'invalid_job', // {}
      'invalid_job', // {"args":[1]}
      ['HardJob', []],
      ['HardJob', ['notarray']],
      ['HardJob', [['a', 1]]],
      ['HardJob', ['dashed']],
      ['HardJob', ['extra keys']],
      'invalid_job', // [1,2]
      ['HardJob', ['after the array']],
    ]);
    const bad = loadFixture(set, 'malformed-job').commands.filter((c) => argvStrings(c)[0] === 'lpush').map((c) => c.argv[2]!);
    expect(bad.map((v) => thrown(() => decodeResqueJob(typeof v === 'string' ? v : Buffer.from(v.base64, 'base64'))).code)).toEqual(['invalid_json', 'invalid_utf8']);
  });
});

describe('JSON adapters (§9): json gem and Oj forms survive exactly', () => {
  const payloads = [
    '{"class":"J","args":[4611686018427387904,18446744073709551616,1234567890123456789012,9007199254740993]}',
    '{"class":"J","args":[0.1,100.0,-0.0,1.0e-07,1.0e+16,1.0e+20,1.7976931348623157e+308,5.0e-324]}',
    '{"class":"J","args":[0.0,10000000000000000.0,"0.1e17","0.17976931348623157e309"]}',
    '{"class":"J","args":["\\n\\r\\t\\b\\f\\u0000\\u0007\\u001b","/\u007f\u2028\u2029</script><&>é"]}',
  ];
  it.each(payloads)('%s', (p) => {
    const job = decodeResqueJob(p);
    expect(stringifyJson(job.doc())).toBe(p);
    const entry = resqueFailureEntry({ payloadJson: job.text, exception: 'E', error: 'e', backtrace: [], worker: 'w', queue: 'q', atMs: 0 });
    expect(entry).toContain(`"payload":${p},`);
  });
  it('big integers reach the handler exactly, Oj strings stay strings', () => {
    expect(decodeResqueJob(payloads[0]!).args).toEqual([2n ** 62n, 2n ** 64n, 1234567890123456789012n, 9007199254740993n]);
    expect(decodeResqueJob(payloads[2]!).args).toEqual([0, 1e16, '0.1e17', '0.17976931348623157e309']);
    expect(Object.is(decodeResqueJob(payloads[1]!).args[2], -0)).toBe(true);
  });
});

describe.each(VERSIONS)('%s: failure entry', (set) => {
  it('has the keys, order and forms of the entry Resque wrote (worker-failure)', () => {
    const [theirs] = rpushes(set, 'worker-failure', 'resque:failed');
    const t = JSON.parse(theirs!) as Record<string, unknown>;
    const payload = JSON.stringify(t.payload);
    const ours = resqueFailureEntry({
      payloadJson: payload, exception: 'RuntimeError', error: 'boom: 1', backtrace: t.backtrace as string[],
      worker: t.worker as string, queue: 'default', atMs: Date.UTC(2026, 11, 7, 22, 20, 41), timeZone: 'UTC',
    });
    const o = JSON.parse(ours) as Record<string, unknown>;
    expect(Object.keys(o)).toEqual(Object.keys(t));
    expect(Object.keys(o)).toEqual(['failed_at', 'payload', 'exception', 'error', 'backtrace', 'worker', 'queue']);
    expect(o.failed_at).toMatch(/^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    expect(t.failed_at).toMatch(/^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    // Everything but the time: the same bytes.
    expect(ours.replace(/"failed_at":"[^"]*"/, '')).toBe(theirs!.replace(/"failed_at":"[^"]*"/, ''));
  });

  it('the worker id and registry values have Resque\'s forms (worker-success)', () => {
    const cmds = loadFixture(set, 'worker-success').commands.map(argvStrings);
    const id = cmds[0]![2]!;
    const [host, pid] = id.split(':');
    expect(resqueWorkerId(host!, Number(pid), ['default'])).toBe(id);
    const k = resqueKeys(new KeyLayout('resque'));
    const started = cmds.find((a) => a[0] === 'set' && a[1]!.endsWith(':started'))!;
    const plan = registerPlan(k, id, Date.parse('2026-12-07T22:24:14Z'), 'UTC');
    expect(plan.map((c) => c.slice(0, 2))).toEqual([['hdel', 'resque:workers:heartbeat'], ['sadd', 'resque:workers'], ['set', started[1]]]);
    expect(plan[2]![2]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(started[2]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0000$/);
    const working = cmds.find((a) => a[0] === 'set' && a[1] === `resque:worker:${id}`)![2]!;
    const w = JSON.parse(working) as { run_at: string; payload: unknown };
    expect(workingValue('default', Date.parse(w.run_at), JSON.stringify(w.payload))).toBe(working);
    const hb = cmds.find((a) => a[0] === 'hset')![3]!;
    expect(formatHeartbeat(Date.parse(hb))).toBe(hb);
    const unregister = cmds.slice(cmds.findIndex((a) => a[0] === 'srem'));
    expect(unregisterPlan(k, id)).toEqual(unregister);
  });
});

describe('time formats', () => {
  const at = Date.UTC(2026, 11, 7, 22, 20, 41);
  it('failed_at is strftime("%Y/%m/%d %H:%M:%S %Z") in the zone, with its abbreviation', () => {
    expect(formatFailedAt(at, 'UTC')).toBe('2026/12/07 22:20:41 UTC');
    expect(formatFailedAt(at, 'America/New_York')).toBe('2026/12/07 17:20:41 EST');
    expect(formatStartedAt(at, 'America/New_York')).toBe('2026-12-07 17:20:41 -0500');
    expect(formatRunAt(at)).toBe('2026-12-07T22:20:41Z');
  });
});

describe('undecodable payloads in failed', () => {
  it('keeps the exact bytes in a well-formed Resque job hash, with a one-line reason', () => {
    const raw = Buffer.from([0xff, 0xfe, 0x7b, 0x6e, 0x6f, 0x74]);
    const entry = undecodableFailureEntry(raw, { code: 'invalid_utf8', message: 'payload is not\nvalid UTF-8 text' }, { worker: 'h:1:default', queue: 'default', atMs: at0(), timeZone: 'UTC' });
    const e = JSON.parse(entry) as { payload: { class: string; args: string[] }; exception: string; error: string; backtrace: unknown[] };
    expect(Object.keys(e)).toEqual(['failed_at', 'payload', 'exception', 'error', 'backtrace', 'worker', 'queue']);
    expect(e.payload.class).toBe('Kiqgate::UndecodablePayload');
    expect(e.payload.args).toHaveLength(1);
    expect(e.exception).toBe('Kiqgate::UndecodablePayload');
    expect(e.error).toBe('invalid_utf8: payload is not valid UTF-8 text');
    expect(e.backtrace).toEqual([]);
    expect(resqueUndecodableOriginal(entry)).toEqual(raw);
    expect(undecodableOriginal(JSON.stringify(e.payload))).toEqual(raw);
    expect(resqueUndecodableOriginal('{"payload":{"class":"X","args":[]}}')).toBeUndefined();
  });
});

describe('the Resque dialect', () => {
  it('pushes at the tail and consumes the head; every other peer the other way round', () => {
    expect(resque.queueEnds).toEqual({ push: 'tail', pop: 'head' });
    for (const p of ['sidekiq6', 'sidekiq7', 'sidekiq8', 'verk', 'exq'] as const) expect(dialectFor(p).queueEnds).toEqual({ push: 'head', pop: 'tail' });
  });

  it('is detected before the Sidekiq fallback, for exactly class + args', () => {
    expect(DETECTION_ORDER.indexOf(resque)).toBeLessThan(DETECTION_ORDER.length - 1);
    expect(detectedDialect({ class: 'C', args: [] })).toBe(resque);
    expect(detectedDialect({ class: 'C', args: [], jid: 'abc' }).peer).not.toBe('resque');
    expect(detectedDialect({ class: 'C' }).peer).not.toBe('resque');
  });

  it('push plan: SADD queues + RPUSH per job, in order; a scheduled job is refused naming at', () => {
    const keys = new KeyLayout('resque');
    expect(resque.pushPlan([{ queue: 'a', payload: 'x' }, { queue: 'b', payload: 'y' }], keys)).toEqual([
      { name: 'sadd', key: 'resque:queues', args: ['a'] }, { name: 'rpush', key: 'resque:queue:a', args: ['x'] },
      { name: 'sadd', key: 'resque:queues', args: ['b'] }, { name: 'rpush', key: 'resque:queue:b', args: ['y'] },
    ]);
    expect(thrown(() => normalizeJob({ class: 'C', args: [], in: 5 }, 'resque')).field).toBe('in');
  });

  it('default namespace resque, registry resque-workers, in-process retries', () => {
    expect(resque.defaultNamespace).toBe('resque');
    expect(resque.processRegistry.kind).toBe('resque-workers');
    expect(resque.inProcessRetries).toBe(true);
  });
});

function at0(): number {
  return Date.UTC(2026, 11, 7, 22, 24, 34);
}
