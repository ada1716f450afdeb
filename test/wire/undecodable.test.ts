/**
 * The dead entry wrapping an undecodable payload: a well-formed Sidekiq job hash (so a peer's
 * tools can read it) that keeps the exact bytes, and undecodableOriginal to get them back.
 */
import { describe, expect, it } from 'vitest';
import { CASES } from '../../scripts/make-malformed.js';
import {
  PREVIEW_CHARS, UNDECODABLE_CLASS, WireError, decodeJob, undecodableEntry, undecodableOriginal, validateJobShape, validateRetryFields,
} from '../../src/wire/index.js';

const AT = 1795872486590.039;

function wrap(raw: Buffer, peer: 'sidekiq6' | 'sidekiq7' | 'sidekiq8' = 'sidekiq7') {
  let err: WireError | undefined;
  try { decodeJob(raw); } catch (e) { err = e as WireError; }
  const e = err ?? new WireError('invalid_job', 'test');
  return undecodableEntry(raw, { code: e.code, message: e.message, field: e.field, queue: 'critical', from: 'queue:critical' }, AT, peer);
}

describe('undecodableEntry / undecodableOriginal', () => {
  it('every undecodable case of the malformed corpus becomes a job hash that decodes, and its bytes come back exactly', () => {
    const cases = CASES.filter((c) => c.code !== null);
    expect(cases.length).toBeGreaterThan(15);
    for (const c of cases) {
      const raw = c.bytes();
      const entry = wrap(raw);
      // kiqgate's own strict decoder reads the entry as a job (so do Sidekiq's JobRecord and UI).
      const job = decodeJob(entry.payload, { maxBytes: 0 });
      expect(job.className, c.name).toBe(UNDECODABLE_CLASS);
      expect(job.args, c.name).toHaveLength(1);
      expect(typeof job.args[0], c.name).toBe('string');
      expect(job.jid, c.name).toBe(entry.jid);
      const doc = JSON.parse(entry.payload) as Record<string, unknown>;
      expect(doc.queue).toBe('critical');
      expect(doc.retry).toBe(0);
      expect(doc.retry_count).toBe(0);
      expect(doc.error_class).toBe('WireError');
      expect(doc.error_message, c.name).toMatch(new RegExp(`^${c.code}${c.field ? ` \\(${c.field}\\)` : ''}: `));
      if (c.contains) expect(doc.error_message, c.name).toContain(c.contains);
      expect(doc.undecodable_code).toBe(c.code);
      expect(doc.undecodable_from).toBe('queue:critical');
      expect(doc.raw_bytes).toBe(raw.length);
      const back = undecodableOriginal(entry.payload);
      expect(back?.equals(raw), c.name).toBe(true);
      expect(undecodableOriginal(Buffer.from(entry.payload))?.equals(raw), c.name).toBe(true);
    }
  });

  it('args shows the text when it is short UTF-8, a cut text or a note otherwise', () => {
    expect(JSON.parse(wrap(Buffer.from('[1,2,3]')).payload).args).toEqual(['[1,2,3]']);
    expect(JSON.parse(wrap(Buffer.from('')).payload).args).toEqual(['']);
    const long = JSON.parse(wrap(Buffer.from('é'.repeat(PREVIEW_CHARS + 10))).payload).args[0] as string;
    expect(long.startsWith('é'.repeat(PREVIEW_CHARS))).toBe(true);
    expect(long).toContain(`${(PREVIEW_CHARS + 10) * 2} bytes in all`);
    // Exactly PREVIEW_CHARS two-byte characters: all shown, no note.
    expect(JSON.parse(wrap(Buffer.from('é'.repeat(PREVIEW_CHARS))).payload).args).toEqual(['é'.repeat(PREVIEW_CHARS)]);
    // A surrogate pair is never cut in half (the entry stays valid UTF-8 JSON).
    const emoji = JSON.parse(wrap(Buffer.from(`x${'😀'.repeat(PREVIEW_CHARS)}`)).payload).args[0] as string;
    expect(emoji).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    const bin = JSON.parse(wrap(Buffer.from([0x7b, 0xff, 0x7d])).payload).args[0] as string;
    expect(bin).toMatch(/^\(3 bytes, not valid UTF-8; shown with U\+FFFD, exact bytes in raw_base64\) \{\ufffd\}$/);
  });

  it('timestamps are in the peer unit: float seconds for Sidekiq 6/7, integer ms for Sidekiq 8; the score is float seconds', () => {
    const raw = Buffer.from('null');
    const s7 = wrap(raw, 'sidekiq7');
    expect(s7.payload).toContain('"failed_at":1795872486.590039,');
    expect(s7.payload).toContain('"created_at":1795872486.590039,');
    const s8 = wrap(raw, 'sidekiq8');
    expect(s8.payload).toContain('"failed_at":1795872486590,');
    expect(s8.scoreSeconds).toBe('1795872486.590039');
    expect(s7.jid).toMatch(/^[0-9a-f]{24}$/);
    expect(s7.jid).not.toBe(s8.jid);
  });

  it("the entry matches each Sidekiq version's job schema (as written and as read) and its retry-field schema", () => {
    for (const peer of ['sidekiq6', 'sidekiq7', 'sidekiq8'] as const) {
      const e = JSON.parse(wrap(Buffer.from('[1,2,3]'), peer).payload) as unknown;
      expect(validateJobShape(peer, e), peer).toBeNull();
      expect(validateJobShape(peer, e, 'readable'), peer).toBeNull();
      expect(validateRetryFields(e), peer).toBeNull();
    }
  });

  it('undecodableOriginal refuses what is not such an entry, or a damaged one', () => {
    expect(undecodableOriginal('null')).toBeUndefined();
    expect(undecodableOriginal('not json')).toBeUndefined();
    expect(undecodableOriginal('{"class":"HardWorker","args":[],"raw_base64":"AAAA"}')).toBeUndefined();
    const entry = JSON.parse(wrap(Buffer.from('[1,2]')).payload) as Record<string, unknown>;
    expect(undecodableOriginal(JSON.stringify({ ...entry, raw_bytes: 4 }))).toBeUndefined();
    expect(undecodableOriginal(JSON.stringify(entry))?.toString()).toBe('[1,2]');
  });

  it('a wrapper wrapped again (an operator retried an entry now over the size limit) gives back the innermost bytes', () => {
    const raw = Buffer.from([0x7b, 0xff, 0x7d]);
    const once = wrap(raw).payload;
    const twice = undecodableEntry(Buffer.from(once), { code: 'too_large', message: 'over the limit', queue: 'q', from: 'queue:q' }, AT, 'sidekiq7').payload;
    expect(undecodableOriginal(twice)?.equals(raw)).toBe(true);
    expect(undecodableOriginal(once)?.equals(raw)).toBe(true);
  });
});
