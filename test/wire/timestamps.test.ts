/** Timestamps: every peer's unit reads to the same instant; each unit is written as its peer writes it. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JsonNumber, JsonString, MS_THRESHOLD, floatSeconds, isEpochMilliseconds, readTimestamp, scoreSeconds, timeUnitOf, timestampToken } from '../../src/wire/index.js';

const n = (raw: string): JsonNumber => new JsonNumber(raw);

describe('readTimestamp', () => {
  const instant = 1_795_872_486_500;
  it.each([
    ['float seconds (Sidekiq 6/7, Exq)', n('1795872486.5')],
    ['integer milliseconds (Sidekiq 8)', n('1795872486500')],
    ['float seconds with an exponent', n('1.7958724865e9')],
    ['a numeric string', '1795872486.5'],
    ['an ISO 8601 string (Rails)', '2026-11-28T13:28:06.500Z'],
    ['ISO 8601 with 9 fractional digits (Rails 7.1)', '2026-11-28T13:28:06.500000000Z'],
    ['a non-canonical string token', new JsonString('1795872486.5', '"1795872486.5"')],
  ])('%s', (_name, v) => {
    expect(readTimestamp(v)).toBeCloseTo(instant, 3);
  });

  it('reads integer seconds (Verk) to the second', () => {
    expect(readTimestamp(n('1795872486'))).toBe(1_795_872_486_000);
  });

  it('decides by token, not value: 1700000000.0 is seconds, 1700000000000 is ms', () => {
    expect(readTimestamp(n('1700000000.0'))).toBe(readTimestamp(n('1700000000000')));
    expect(readTimestamp(n('1700000000'))).toBe(1_700_000_000_000);
  });

  it('returns undefined for what is not a timestamp', () => {
    for (const v of [null, undefined, '', 'soon', true, [], n('1e999')]) expect(readTimestamp(v as never)).toBeUndefined();
  });
});

describe('writing', () => {
  const ms = 1_795_872_486_590.039;
  it('float seconds always carry a decimal point', () => {
    expect(floatSeconds(1_700_000_000_000)).toBe('1700000000.0');
    expect(floatSeconds(ms)).toBe('1795872486.590039');
    expect(floatSeconds(0)).toBe('0.0');
    for (let i = 0; i < 1000; i++) expect(floatSeconds(Math.floor(Math.random() * 2e12))).toMatch(/\.|e/);
  });

  it('writes each unit as its peer does', () => {
    expect(timestampToken(ms, 'float_s').raw).toBe('1795872486.590039');
    expect(timestampToken(ms, 'int_ms').raw).toBe('1795872486590');
    expect(timestampToken(ms, 'int_s').raw).toBe('1795872486');
    expect(scoreSeconds(1_700_000_000_000)).toBe('1700000000.0');
  });

  it('reads back what it writes', () => {
    for (const unit of ['float_s', 'int_ms', 'int_s'] as const) {
      const tok = timestampToken(ms, unit);
      expect(timeUnitOf(tok)).toBe(unit);
      expect(Math.abs(readTimestamp(tok)! - ms)).toBeLessThan(unit === 'int_s' ? 1000 : 1);
    }
  });

  it('tells the units apart', () => {
    expect(timeUnitOf(n('1795872486.5'))).toBe('float_s');
    expect(timeUnitOf(n('1795872486500'))).toBe('int_ms');
    expect(timeUnitOf(n('1795872486'))).toBe('int_s');
    expect(timeUnitOf('1795872486')).toBeUndefined();
  });
});

describe('the seconds/milliseconds threshold', () => {
  it('isEpochMilliseconds: above 1e11 in absolute value is ms, else seconds', () => {
    expect(MS_THRESHOLD).toBe(1e11);
    expect(isEpochMilliseconds(1_700_000_000_000)).toBe(true);
    expect(isEpochMilliseconds(-1_700_000_000_000)).toBe(true);
    expect(isEpochMilliseconds(1_700_000_000)).toBe(false);
    expect(isEpochMilliseconds(1e11)).toBe(false);
    expect(isEpochMilliseconds(1e11 + 1)).toBe(true);
  });

  it('is written once: no source file outside wire/timestamps.ts spells 1e11 in code', () => {
    const src = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
    const offenders: string[] = [];
    for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
      // Generated schema types only mention it in comments copied from schemas/.
      if (!file.endsWith('.ts') || file === join('wire', 'timestamps.ts') || file.startsWith(join('wire', 'generated'))) continue;
      readFileSync(join(src, file), 'utf8').split('\n').forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '').replace(/\/\*.*?\*\//g, '');
        if (/\b1e11\b|100_?000_?000_?000\b/.test(code)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});
