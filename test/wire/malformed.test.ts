/**
 * The bad-input corpus (fixtures/malformed/): each payload gets exactly the outcome index.json
 * states, and the committed files are what scripts/make-malformed.ts writes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CASES, MALFORMED_DIR, indexJson } from '../../scripts/make-malformed.js';
import { WireError, decodeJob, stringifyJson } from '../../src/wire/index.js';

describe('fixtures/malformed', () => {
  it('index.json is current (run npx tsx scripts/make-malformed.ts)', () => {
    expect(readFileSync(join(MALFORMED_DIR, 'index.json'), 'utf8')).toBe(indexJson());
  });

  it.each(CASES.filter((c) => !c.generated).map((c) => [c.name, c] as const))('%s: the committed bytes', (_name, c) => {
    expect(readFileSync(join(MALFORMED_DIR, c.file)).equals(c.bytes())).toBe(true);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const bytes = c.generated || !existsSync(join(MALFORMED_DIR, c.file)) ? c.bytes() : readFileSync(join(MALFORMED_DIR, c.file));
    if (c.code === null) {
      const job = decodeJob(bytes);
      expect({ dialect: job.dialect, class: job.className }).toEqual(c.decodes);
      expect(Buffer.from(stringifyJson(job.doc())).equals(bytes)).toBe(true);
      return;
    }
    let err: unknown;
    try {
      decodeJob(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WireError);
    const w = err as WireError;
    expect(w.code).toBe(c.code);
    expect(w.message).toContain(c.contains);
    expect(w.field).toBe(c.field);
  });

  it('big integers decode exactly', () => {
    const job = decodeJob(CASES.find((c) => c.name === 'big-integers')!.bytes());
    expect(job.args).toEqual([4611686018427387904n, -9223372036854775808n, 18446744073709551616n, 9007199254740993n, { id: 4611686018427387905n }]);
  });

  it('NaN-like strings stay strings, __proto__ keys stay data', () => {
    expect(decodeJob(CASES.find((c) => c.name === 'nan-like-strings')!.bytes()).args).toEqual(['NaN', 'Infinity', '-Infinity', '1e999', '-0', '0x10']);
    const [arg] = decodeJob(CASES.find((c) => c.name === 'proto-key-args')!.bytes()).args as [Record<string, unknown>];
    expect(Object.keys(arg)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(arg)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('the 10 MB payload is valid once the size limit is lifted', () => {
    const job = decodeJob(CASES.find((c) => c.name === 'huge-10mb')!.bytes(), { maxBytes: 0 });
    expect((job.args[0] as string).length).toBe(10 * 1024 * 1024);
  });

  it('the mixed Sidekiq 7/8 timestamps read to the right instants', () => {
    const job = decodeJob(CASES.find((c) => c.name === 'mixed-timestamps-sidekiq7-8')!.bytes());
    expect(job.timestamp('created_at')).toBeCloseTo(1795872486590.039, 2);
    expect(job.timestamp('retried_at')).toBe(1795874305758);
  });
});
