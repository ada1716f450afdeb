/**
 * failureOutcome replayed against the captured failures: for every retry or dead entry a peer
 * wrote, the entry kiqgate builds from the same fetched payload at the same instant has the same
 * keys in the same order, the same types and units, the same values, and a score in the peer's
 * window.
 */
import { inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type FailureInfo, JsonNumber, type Peer, decodeJob, encodeBacktrace, failureOutcome, parseObject, readTimestamp,
  stringifyJson, timeUnitOf, validateJobShape, validateRetryFields,
} from '../../src/wire/index.js';
import { loadFixture, peerOf } from './fixture-payloads.js';

type Value = string | { base64: string };
const text = (v: Value): string => (typeof v === 'string' ? v : Buffer.from(v.base64, 'base64').toString('utf8'));

interface Failure { original: string; entry: string; score: number; set: 'retry' | 'dead' }

/** Each retry/dead ZADD of a fixture, paired with the last payload of the same jid pushed before it. */
function failures(file: string): Failure[] {
  const f = loadFixture(file);
  const cmds = [...f.commands, ...(f.lua_commands ?? [])].map((c) => c as { t?: number; argv: Value[] }).sort((a, b) => (a.t ?? 0) - (b.t ?? 0));
  const lastPushed = new Map<string, string>();
  const out: Failure[] = [];
  for (const c of cmds) {
    const op = String(c.argv[0]).toUpperCase();
    const key = String(c.argv[1]);
    if (op === 'LPUSH' || op === 'RPUSH') {
      for (const m of c.argv.slice(2)) {
        const t = text(m);
        if (t.startsWith('{')) lastPushed.set(String((JSON.parse(t) as { jid: unknown }).jid), t);
      }
    }
    const set = key.replace(/^exq:/, '');
    if (op === 'ZADD' && (set === 'retry' || set === 'dead')) {
      const entry = text(c.argv[3]!);
      const jid = String((JSON.parse(entry) as { jid: unknown }).jid);
      const original = lastPushed.get(jid);
      if (original && !out.some((x) => x.entry === entry)) out.push({ original, entry, score: Number(c.argv[2]), set });
    }
  }
  return out;
}

function decodeBacktrace(b64: string): string[] {
  return JSON.parse(inflateSync(Buffer.from(b64.replace(/\s+/g, ''), 'base64')).toString('utf8')) as string[];
}

/** When the peer recorded the failure, in epoch ms (the latest of failed_at and retried_at). */
function failedAtMs(entry: string): number {
  const doc = parseObject(entry);
  return readTimestamp(doc.get('retried_at')) ?? readTimestamp(doc.get('failed_at'))!;
}

const SETS = ['sidekiq-6.4.1', 'sidekiq-7.3.10', 'sidekiq-8.1.7', 'verk-1.7.3', 'exq-0.23.0'];
const cases = SETS.flatMap((set) =>
  ['worker-failure-retry', 'retry-exhausted-dead', 'worker-crash-exit', 'retry-at-custom']
    .filter((s) => { try { loadFixture(`${set}/${s}.json`); return s !== 'retry-at-custom'; } catch { return false; } })
    .flatMap((s) => failures(`${set}/${s}.json`).map((f, i) => [`${set}/${s} #${i + 1} → ${f.set}`, set, f] as const)),
);

/** Seconds between the failure and the retry score each peer allows (its backoff formula, count = new retry_count). */
function window(peer: Peer, count: number): [number, number] {
  if (peer === 'verk' || peer === 'exq') {
    const lo = peer === 'verk' ? 1 : 0;
    return [count ** 4 + 15 + lo * (count + 1), count ** 4 + 15 + 30 * (count + 1) + 1];
  }
  return [count ** 4 + 15, count ** 4 + 15 + (peer === 'sidekiq8' ? 10 * (count + 1) - 1 : 9 * (count + 1)) + 1];
}

describe('failure entries match the peers', () => {
  it('finds retry and dead entries for every peer', () => {
    const kinds = new Set(cases.map(([, set, f]) => `${set} ${f.set}`));
    for (const set of SETS) expect(kinds.has(`${set} retry`)).toBe(true);
    for (const set of SETS.filter((s) => !s.startsWith('exq'))) expect(kinds.has(`${set} dead`)).toBe(true);
  });

  it.each(cases)('%s', (_name, set, f) => {
    const peer = peerOf(set.split('-')[0]!, set.split('-')[1]!);
    const job = decodeJob(f.original);
    expect(job.dialect === peer || job.candidates.includes(peer)).toBe(true);
    const theirs = parseObject(f.entry);
    const now = failedAtMs(f.entry);
    const bt = theirs.get('error_backtrace');
    const info: FailureInfo = {
      errorMessage: String(theirs.get('error_message')),
      errorClass: typeof theirs.get('error_class') === 'string' ? String(theirs.get('error_class')) : 'RuntimeError',
      ...(typeof bt === 'string' && peer !== 'verk' ? { backtrace: decodeBacktrace(bt) } : {}),
    };
    // The dialect decides the shape; Sidekiq 6 vs 7 is told apart by the backtrace style here.
    const decoded = peer === 'sidekiq6' || peer === 'sidekiq7' ? Object.assign(Object.create(Object.getPrototypeOf(job) as object) as typeof job, job, { dialect: peer }) : job;
    const out = failureOutcome(decoded, 'default', info, now, { defaultMaxRetries: 25 });
    expect(out.kind).toBe(f.set);
    if (out.kind === 'drop') return;
    const ours = parseObject(out.payload);

    expect(ours.keys()).toEqual(theirs.keys());
    for (const key of theirs.keys()) {
      const a = ours.get(key)!;
      const b = theirs.get(key)!;
      if (b instanceof JsonNumber && timeUnitOf(b) !== undefined && /_at$/.test(key)) {
        expect({ key, unit: timeUnitOf(a) }).toEqual({ key, unit: timeUnitOf(b) });
        expect(Math.abs(readTimestamp(a)! - readTimestamp(b)!)).toBeLessThan(0.01);
      } else if (key === 'error_backtrace' && peer !== 'verk') {
        const s = String(a);
        expect(decodeBacktrace(s)).toEqual(decodeBacktrace(String(b)));
        expect(s.includes('\n')).toBe(peer === 'sidekiq6');
        expect(s).toMatch(/^eJ/);
        // Not byte-equal: Node's bundled zlib and Ruby's system zlib compress the same input differently.
      } else {
        expect({ key, value: stringifyJson(a) }).toEqual({ key, value: stringifyJson(b) });
      }
    }
    expect(out.retryCount).toBe(Number((theirs.get('retry_count') as JsonNumber).raw) + (peer === 'exq' && f.set === 'dead' ? 1 : 0));
    if (peer.startsWith('sidekiq')) expect(validateRetryFields(JSON.parse(out.payload))).toBeNull();
    expect(validateJobShape(peer, JSON.parse(out.payload))).toBeNull();

    const nowS = now / 1000;
    if (out.kind === 'retry') {
      const [lo, hi] = window(peer, out.retryCount);
      expect(f.score - nowS).toBeGreaterThanOrEqual(lo - 0.01);
      expect(f.score - nowS).toBeLessThan(hi);
      expect(Number(out.scoreSeconds) - nowS).toBeGreaterThanOrEqual(lo - 0.01);
      expect(Number(out.scoreSeconds) - nowS).toBeLessThan(hi);
    } else if (out.kind === 'dead') {
      expect(Math.abs(Number(out.scoreSeconds) - nowS)).toBeLessThan(0.01);
      expect(Math.abs(f.score - nowS)).toBeLessThan(0.05);
    }
  });
});

describe('Sidekiq retry semantics', () => {
  const at = 1_795_872_507_234.5;
  const info: FailureInfo = { errorMessage: 'boom', errorClass: 'RuntimeError', backtrace: ['a.rb:1', 'b.rb:2', 'c.rb:3'] };

  it('drops a retry: false job and a dead: false exhausted one', () => {
    expect(failureOutcome(decodeJob('{"retry":false,"class":"A","args":[]}'), 'q', info, at, { defaultMaxRetries: 25 }).kind).toBe('drop');
    expect(failureOutcome(decodeJob('{"retry":0,"dead":false,"class":"A","args":[]}'), 'q', info, at, { defaultMaxRetries: 25 }).kind).toBe('drop');
  });

  it('moves the job to retry_queue, or to the queue it was fetched from', () => {
    const a = failureOutcome(decodeJob('{"queue":"x","class":"A","args":[]}'), 'fetched', info, at, { defaultMaxRetries: 25 });
    const b = failureOutcome(decodeJob('{"queue":"x","retry_queue":"slow","class":"A","args":[]}'), 'fetched', info, at, { defaultMaxRetries: 25 });
    expect(a.kind === 'retry' && parseObject(a.payload).get('queue')).toBe('fetched');
    expect(b.kind === 'retry' && parseObject(b.payload).get('queue')).toBe('slow');
  });

  it('cuts the backtrace to the number of lines asked for, and writes none unless asked', () => {
    const out = failureOutcome(decodeJob('{"class":"A","args":[],"backtrace":2,"created_at":1795874305758}'), 'q', info, at, { defaultMaxRetries: 25 });
    expect(out.kind === 'retry' && decodeBacktrace(String(parseObject(out.payload).get('error_backtrace')))).toEqual(['a.rb:1', 'b.rb:2']);
    const none = failureOutcome(decodeJob('{"class":"A","args":[]}'), 'q', info, at, { defaultMaxRetries: 25 });
    expect(none.kind === 'retry' && parseObject(none.payload).has('error_backtrace')).toBe(false);
  });

  it('truncates error_message to 10,000 characters', () => {
    const out = failureOutcome(decodeJob('{"class":"A","args":[],"jid":"0123456789abcdef01234567"}'), 'q', { errorMessage: 'x'.repeat(20_000), errorClass: 'E' }, at, { defaultMaxRetries: 25 });
    expect(out.kind === 'retry' && String(parseObject(out.payload).get('error_message')).length).toBe(10_000);
  });

  it('continues from retry_count -1 (a job retried from the API after its first failure)', () => {
    const out = failureOutcome(decodeJob('{"class":"A","args":[],"error_message":"x","error_class":"E","failed_at":1795872507.1,"retry_count":-1}'), 'q', info, at, { defaultMaxRetries: 25 });
    expect(out.retryCount).toBe(0);
    expect(out.kind === 'retry' && parseObject(out.payload).has('retried_at')).toBe(true);
  });

  it('encodes MIME Base64 as Ruby encode64 does: 60 characters a line, trailing newline', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `/app/lib/worker_${i}.rb:${i}:in 'perform'`);
    const mime = encodeBacktrace(lines, 'mime');
    expect(mime.endsWith('\n')).toBe(true);
    for (const l of mime.split('\n').slice(0, -2)) expect(l).toHaveLength(60);
    expect(mime.replace(/\n/g, '')).toBe(encodeBacktrace(lines, 'strict'));
    expect(decodeBacktrace(mime)).toEqual(lines);
  });
});

describe('failure causes: an unknown class is never dropped, invalid args go to dead', () => {
  const at = 1_795_872_507_234.5;
  const policy = { defaultMaxRetries: 3 };
  const unknown: FailureInfo = { errorMessage: "unknown job class 'X': no handler registered", errorClass: 'UnknownJobClass', cause: 'unknown_class' };
  const badArgs: FailureInfo = { errorMessage: 'args fail its schema', errorClass: 'InvalidJobArgs', cause: 'invalid_args' };
  const handler: FailureInfo = { errorMessage: 'boom', errorClass: 'RuntimeError' };
  /** The first payload a peer pushed in its worker-failure-retry fixture, with fields replaced. */
  const payload = (set: string, fields: Record<string, unknown>): string => {
    const o = JSON.parse(failures(`${set}/worker-failure-retry.json`)[0]!.original) as Record<string, unknown>;
    return JSON.stringify({ ...o, ...fields });
  };
  const errorMessage = (o: { kind: string; payload?: string }): unknown => (o.payload ? parseObject(o.payload).get('error_message') : undefined);

  it('Sidekiq: unknown class with retry: false retries with the default maximum, then goes to dead even with dead: false', () => {
    const first = failureOutcome(decodeJob(payload('sidekiq-7.3.10', { retry: false })), 'q', unknown, at, policy);
    expect(first).toMatchObject({ kind: 'retry', retryCount: 0 });
    expect(first.kind === 'retry' && first.runAtMs - at).toBeGreaterThanOrEqual(15_000);
    expect(errorMessage(first)).toBe(unknown.errorMessage);
    const last = failureOutcome(decodeJob(payload('sidekiq-7.3.10', { retry: false, dead: false, retry_count: 2 })), 'q', unknown, at, policy);
    expect(last).toMatchObject({ kind: 'dead', retryCount: 3 });
    expect(failureOutcome(decodeJob(payload('sidekiq-7.3.10', { retry: 5, retry_count: 4 })), 'q', unknown, at, policy).kind).toBe('dead');
    // The handler's own failure still follows the job's settings, as Sidekiq does.
    expect(failureOutcome(decodeJob(payload('sidekiq-7.3.10', { retry: false })), 'q', handler, at, policy).kind).toBe('drop');
    expect(failureOutcome(decodeJob(payload('sidekiq-7.3.10', { dead: false, retry_count: 2 })), 'q', handler, at, policy).kind).toBe('drop');
  });

  it('Sidekiq: invalid args go to dead at once, whatever retry and dead say', () => {
    for (const fields of [{}, { retry: true }, { retry: false }, { retry: 10, dead: false }]) {
      const out = failureOutcome(decodeJob(payload('sidekiq-8.1.7', fields)), 'q', badArgs, at, policy);
      // The dead entry carries Sidekiq's dead-set limits (the engine trims with them).
      expect(out, JSON.stringify(fields)).toMatchObject({ kind: 'dead', retryCount: 0, limits: { maxJobs: 10_000, timeoutSeconds: 15_552_000 } });
      expect(errorMessage(out)).toBe(badArgs.errorMessage);
    }
  });

  it('Verk: invalid args go to dead at once; an unknown class retries', () => {
    // With Verk's dead-set limits: 100 entries, 7 days.
    expect(failureOutcome(decodeJob(payload('verk-1.7.3', {})), 'q', badArgs, at, policy)).toMatchObject({ kind: 'dead', retryCount: 1, limits: { maxJobs: 100, timeoutSeconds: 604_800 } });
    expect(failureOutcome(decodeJob(payload('verk-1.7.3', {})), 'q', unknown, at, policy)).toMatchObject({ kind: 'retry', retryCount: 1 });
  });

  it('a retry_count so large that the backoff overflows goes to dead in every family, never to a score Redis refuses', () => {
    const huge = { retry: 1e100, retry_count: 1e80 };
    for (const set of ['sidekiq-6.4.1', 'sidekiq-7.3.10', 'sidekiq-8.1.7', 'verk-1.7.3', 'exq-0.23.0']) {
      const out = failureOutcome(decodeJob(payload(set, huge)), 'q', handler, at, policy);
      expect(out.kind, set).toBe('dead');
    }
    // Sidekiq 8's jitter range, 10 * (count + 1), beyond crypto.randomInt's.
    expect(failureOutcome(decodeJob(payload('sidekiq-8.1.7', { retry: 2 ** 50, retry_count: 2 ** 48 })), 'q', handler, at, policy).kind).toBe('dead');
    // A class retryAt beyond any date, likewise.
    const far = failureOutcome(decodeJob(payload('sidekiq-7.3.10', {})), 'q', handler, at, { ...policy, retryAt: () => 1e300 });
    expect(far.kind).toBe('dead');
  });

  it('whatever retry, retry_count and dead hold, failureOutcome never throws and a retry has a score Redis takes', () => {
    const num = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 2 ** 48, 2 ** 53 + 2, 1e80, 1e308));
    const setting = fc.oneof(fc.boolean(), num, fc.constant(null), fc.string());
    fc.assert(fc.property(
      fc.constantFrom('sidekiq-6.4.1', 'sidekiq-7.3.10', 'sidekiq-8.1.7', 'verk-1.7.3', 'exq-0.23.0'),
      setting, fc.option(num, { nil: undefined }), fc.option(fc.boolean(), { nil: undefined }), fc.constantFrom(handler, unknown, badArgs),
      (set, retry, retryCount, dead, info) => {
        let job;
        try {
          job = decodeJob(payload(set, { retry, ...(retryCount === undefined ? {} : { retry_count: retryCount }), ...(dead === undefined ? {} : { dead }) }));
        } catch {
          return; // not a job kiqgate reads: it goes to dead as undecodable, not through here
        }
        const out = failureOutcome(job, 'q', info, at, policy);
        if (out.kind === 'retry') expect(Number.isFinite(Number(out.scoreSeconds)), out.scoreSeconds).toBe(true);
        if (out.kind !== 'drop') expect(() => parseObject(out.payload)).not.toThrow();
      },
    ), { numRuns: 3_000 });
  });

  it('Exq: unknown class with retry: false retries with the default maximum; invalid args go to dead at once', () => {
    expect(failureOutcome(decodeJob(payload('exq-0.23.0', { retry: false })), 'q', handler, at, policy).kind).toBe('dead');
    expect(failureOutcome(decodeJob(payload('exq-0.23.0', { retry: false })), 'q', unknown, at, policy)).toMatchObject({ kind: 'retry', retryCount: 1 });
    expect(failureOutcome(decodeJob(payload('exq-0.23.0', { retry: false, retry_count: 3 })), 'q', unknown, at, policy).kind).toBe('dead');
    const bad = failureOutcome(decodeJob(payload('exq-0.23.0', { retry: 25 })), 'q', badArgs, at, policy);
    expect(bad.kind).toBe('dead');
    expect(bad.kind === 'dead' && parseObject(bad.payload).get('error_class')).toBe('ExqGenericError');
  });
});
