/**
 * Producer × consumer: a job as each runtime's producer wrote it (the payload its fixture's
 * worker-failure-retry scenario pushed), failed by a worker standing in for each runtime. The
 * entry is the one the *consumer* writes (its keys, their order, its number forms, its
 * retry_count and limits), whoever produced the job:
 * - Sidekiq (6/7/8) sets its fields in place on the hash, whatever it is (JobRetry), in its own
 *   time unit; every other byte stays (a Verk `args` string too);
 * - Verk keeps its 13 keys, alphabetical, `args` as a JSON string, integer seconds, retry_count 1;
 * - Exq keeps its 13 keys, alphabetical, drops `created_at`, reads `retry` as its limit;
 * - Resque RPUSHes `{failed_at, payload, exception, error, backtrace, worker, queue}` to its
 *   `failed` list, the payload the queued bytes verbatim, whatever hash it was (no retries).
 */
import { describe, expect, it } from 'vitest';
import {
  type FailureOutcome, JsonNumber, type JsonObject, type Peer, decodeJob, failureOutcome, parseObject, stringifyJson,
} from '../../src/wire/index.js';
import { loadFixture } from './fixture-payloads.js';

/** The payload each producer pushed in its worker-failure-retry capture (Exq's from inside its enqueue script). */
const PRODUCED: Record<Peer, string> = {
  sidekiq6: pushed('sidekiq-6.4.1'),
  sidekiq7: pushed('sidekiq-7.3.10'),
  sidekiq8: pushed('sidekiq-8.1.7'),
  verk: pushed('verk-1.7.3'),
  exq: pushed('exq-0.23.0'),
  resque: pushed('resque-3.0.0', 'worker-failure.json'),
};

function pushed(set: string, scenario = 'worker-failure-retry.json'): string {
  const f = loadFixture(`${set}/${scenario}`);
  for (const c of [...f.commands, ...(f.lua_commands ?? [])]) {
    const [op, key, member] = c.argv;
    // Sidekiq, Verk and Exq LPUSH; Resque RPUSHes.
    if (['LPUSH', 'RPUSH'].includes(String(op).toUpperCase()) && /(^|:)queue:default$/.test(String(key)) && typeof member === 'string') return member;
  }
  throw new Error(`${set}: no push to queue:default`);
}

const PEERS: Peer[] = ['sidekiq6', 'sidekiq7', 'sidekiq8', 'verk', 'exq', 'resque'];
/** 2026-11-30T10:15:07.234Z, with a sub-millisecond part as the engine's clock has. */
const NOW = 1_795_990_507_234.25;
const NOW_S = Math.floor(NOW / 1000);

const STACK = ['/app/jobs.js:5:in perform', '/app/node_modules/kiqgate/dist/engine/job-runner.js:120'];

function fail(producer: Peer, consumer: Peer, payload = PRODUCED[producer]): FailureOutcome {
  return failureOutcome(decodeJob(payload), 'default', { errorMessage: 'boom', errorClass: 'RuntimeError', stack: STACK }, NOW, {
    defaultMaxRetries: 25, consumer, worker: 'host:42:default',
  });
}

/** The raw token of a number field ("1795990507.23425", "1795990507234"), or the value's JSON. */
function token(doc: JsonObject, key: string): string {
  const v = doc.get(key);
  return v instanceof JsonNumber ? v.raw : stringifyJson(v ?? null);
}

const VERK_KEYS = ['args', 'class', 'created_at', 'enqueued_at', 'error_backtrace', 'error_message', 'failed_at', 'finished_at', 'jid', 'max_retry_count', 'queue', 'retried_at', 'retry_count'];
const EXQ_KEYS = ['args', 'class', 'enqueued_at', 'error_class', 'error_message', 'failed_at', 'finished_at', 'jid', 'processor', 'queue', 'retried_at', 'retry', 'retry_count'];

const pairs = PEERS.flatMap((producer) => PEERS.map((consumer) => [producer, consumer] as const));

describe('a failure entry is the consumer\'s, whoever produced the job (6 × 6)', () => {
  it.each(pairs)('produced by %s, failed standing in for %s', (producer, consumer) => {
    const original = parseObject(PRODUCED[producer]);
    const out = fail(producer, consumer);
    if (out.kind === 'drop') throw new Error(`unexpected ${out.kind}`);
    const entry = parseObject(out.payload);

    if (consumer === 'resque') {
      // Resque::Failure::Redis#save: its seven keys, the queued bytes as the payload, verbatim.
      expect(out.kind).toBe('failed-list');
      expect(entry.keys()).toEqual(['failed_at', 'payload', 'exception', 'error', 'backtrace', 'worker', 'queue']);
      expect(out.payload).toContain(`"payload":${PRODUCED[producer]},`);
      expect(entry.get('failed_at')).toMatch(/^2026\/11\/\d{2} \d{2}:\d{2}:07 \S+$/);
      expect(entry.get('exception')).toBe('RuntimeError');
      expect(entry.get('error')).toBe('boom');
      expect(stringifyJson(entry.get('backtrace')!)).toBe('["/app/jobs.js:5:in perform"]'); // cut before the runner's frames
      expect(entry.get('worker')).toBe('host:42:default');
      expect(entry.get('queue')).toBe('default');
      return;
    }
    if (out.kind === 'failed-list') throw new Error(`unexpected ${out.kind}`);
    if (consumer.startsWith('sidekiq')) {
      // In place: the original keys in their order, then Sidekiq's fields it did not have.
      const prev = original.get('retry_count');
      const firstFailure = prev === undefined;
      // A hash without `retry` gets the worker option's true first (JobRetry#local).
      const appended = ['retry', 'queue', 'error_message', 'error_class', firstFailure ? 'failed_at' : 'retried_at', 'retry_count'].filter((k) => !original.has(k));
      expect(entry.keys()).toEqual([...original.keys(), ...appended]);
      for (const k of original.keys()) {
        if (['error_message', 'error_class', 'failed_at', 'retried_at', 'retry_count', 'queue'].includes(k)) continue;
        if (k === 'retry' && original.get('retry') === null) continue;
        expect({ k, v: token(entry, k) }).toEqual({ k, v: token(original, k) }); // byte for byte, Verk's args string too
      }
      expect(entry.get('error_message')).toBe('boom');
      expect(entry.get('error_class')).toBe('RuntimeError');
      if (producer === 'resque') expect(entry.get('queue')).toBe('default'); // the queue it was fetched from
      // Sidekiq: 0 on the first failure (no retry_count), else +1 (a fresh Verk job carries 0, so 1).
      expect(token(entry, 'retry_count')).toBe(firstFailure ? '0' : String(Number((prev as JsonNumber).raw) + 1));
      const stamp = consumer === 'sidekiq8' ? String(Math.floor(NOW)) : '1795990507.23425';
      expect(token(entry, firstFailure ? 'failed_at' : 'retried_at')).toBe(stamp);
      // A failed_at the hash already had is kept as it was, a null one (Verk's) too, as Sidekiq does.
      if (!firstFailure) expect(token(entry, 'failed_at')).toBe(token(original, 'failed_at'));
      expect(out.kind).toBe('retry');
      expect(out.scoreSeconds).toMatch(/^\d+\.\d+$/);
    } else if (consumer === 'verk') {
      expect(entry.keys()).toEqual(VERK_KEYS);
      const args = original.get('args');
      expect(entry.get('args')).toBe(typeof args === 'string' ? args : stringifyJson(args!));
      for (const k of ['class', 'jid', 'queue', 'enqueued_at']) expect({ k, v: token(entry, k) }).toEqual({ k, v: token(original, k) });
      // A foreign created_at is kept as written (Sidekiq's float seconds or 8's ms); none is null.
      expect(token(entry, 'created_at')).toBe(original.has('created_at') ? token(original, 'created_at') : 'null');
      expect(entry.get('error_message')).toBe('boom');
      expect(entry.get('error_backtrace')).toBe('\n');
      expect(token(entry, 'failed_at')).toBe(String(NOW_S));
      expect(token(entry, 'retried_at')).toBe('null');
      expect(token(entry, 'finished_at')).toBe('null');
      expect(token(entry, 'retry_count')).toBe('1');
      // Verk keeps its own max_retry_count; a foreign job has none (null: Verk's default applies).
      expect(token(entry, 'max_retry_count')).toBe(producer === 'verk' ? '25' : 'null');
      expect(out.kind).toBe('retry');
      expect(out.scoreSeconds).toMatch(/^\d+\.0$/);
    } else {
      expect(entry.keys()).toEqual(EXQ_KEYS);
      for (const k of ['args', 'class', 'jid', 'queue', 'enqueued_at']) expect({ k, v: token(entry, k) }).toEqual({ k, v: token(original, k) });
      expect(entry.get('error_message')).toBe('boom');
      expect(token(entry, 'retried_at')).toBe('1795990507.23425');
      expect(token(entry, 'failed_at')).toBe('1795990507.23425');
      expect(token(entry, 'processor')).toBe('null');
      expect(token(entry, 'retry')).toBe(token(original, 'retry') === 'null' ? 'null' : token(original, 'retry'));
      if (producer === 'verk' || producer === 'resque') {
        // Exq reads `retry` as the limit; a Verk or Resque job has none, so its first failure is final.
        expect(out.kind).toBe('dead');
        expect(entry.get('error_class')).toBe('ExqGenericError');
        expect(token(entry, 'retry_count')).toBe('0'); // a dead entry keeps the count it had
        expect(out.scoreSeconds).toBe('1795990507.23425');
      } else {
        expect(out.kind).toBe('retry'); // Sidekiq's `retry: true` → max_retries; Exq's 25
        expect(token(entry, 'error_class')).toBe('null');
        expect(token(entry, 'retry_count')).toBe('1');
      }
    }
  });
});

describe('the consumer reads retry as its runtime does', () => {
  const retryFalse = PRODUCED.sidekiq7.replace('"retry":true', '"retry":false');

  it('a Sidekiq retry: false job: dropped by Sidekiq, to dead in Exq, retried by Verk (which drops the key)', () => {
    expect(fail('sidekiq7', 'sidekiq7', retryFalse).kind).toBe('drop');
    const exq = fail('sidekiq7', 'exq', retryFalse);
    expect(exq.kind).toBe('dead');
    const verk = fail('sidekiq7', 'verk', retryFalse);
    expect(verk.kind).toBe('retry');
    if (verk.kind === 'retry') expect(parseObject(verk.payload).has('retry')).toBe(false);
  });

  it('Verk exhausts a foreign job at its default maximum, and trims dead with its own limits', () => {
    const after = (n: number) => PRODUCED.sidekiq7.replace(/}$/, `,"error_message":"x","error_class":"E","failed_at":1795872591.5,"retry_count":${n}}`);
    expect(fail('sidekiq7', 'verk', after(24)).kind).toBe('retry'); // count 25 ≤ 25
    const out = fail('sidekiq7', 'verk', after(25));
    expect(out).toMatchObject({ kind: 'dead', retryCount: 26, scoreSeconds: String(NOW_S), limits: { maxJobs: 100, timeoutSeconds: 604_800 } });
    // Sidekiq trims with its own limits, whoever produced the job.
    expect(fail('verk', 'sidekiq7', PRODUCED.verk.replace('"max_retry_count":25', '"max_retry_count":25,"retry":0'))).toMatchObject({ kind: 'dead', limits: { maxJobs: 10_000 } });
  });

  it('Verk writes a Sidekiq args array as Jason re-encodes it: a JSON string, object keys sorted, numbers exact', () => {
    const job = PRODUCED.sidekiq7.replace('"args":[1]', '"args":[{"b":1.5,"a":[2,{"d":null,"c":9007199254740993}]},"é"]');
    const out = fail('sidekiq7', 'verk', job);
    if (out.kind !== 'retry') throw new Error(out.kind);
    expect(parseObject(out.payload).get('args')).toBe('[{"a":[2,{"c":9007199254740993,"d":null}],"b":1.5},"é"]');
  });

  it('Sidekiq keeps a Verk job\'s args string as it is (the handler still gets the decoded args)', () => {
    const job = decodeJob(PRODUCED.verk);
    expect(job.args).toEqual([1, 2]);
    const out = fail('verk', 'sidekiq7');
    if (out.kind !== 'retry') throw new Error(out.kind);
    expect(out.payload.startsWith('{"args":"[1,2]","class":"FailingWorker",')).toBe(true);
  });
});
