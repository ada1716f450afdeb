/**
 * describeThrown turns any thrown value into plain strings without ever throwing, and the
 * strings say something useful (not `[object Object]`, not `undefined` for a Symbol).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeThrown } from '../../src/support/thrown-value.js';
import { anyThrown, HOSTILE } from '../support/hostile-thrown.js';

function isPlainDescription(d: unknown): boolean {
  if (typeof d !== 'object' || d === null) return false;
  const { errorClass, errorMessage, backtrace } = d as Record<string, unknown>;
  return typeof errorClass === 'string' && errorClass !== '' && typeof errorMessage === 'string'
    && Array.isArray(backtrace) && backtrace.every((l) => typeof l === 'string');
}

describe('describeThrown', () => {
  it('never throws and always gives strings, for anything thrown', () => {
    fc.assert(fc.property(anyThrown, (h) => {
      const d = describeThrown(h.make());
      expect(isPlainDescription(d)).toBe(true);
      // What the failure path does with it must not throw either.
      JSON.stringify(d);
      d.errorMessage.slice(0, 10);
      expect(d.errorMessage).toMatch(h.message);
    }), { numRuns: 2_000 });
  });

  it.each(HOSTILE.map((h) => [h.label, h] as const))('%s', (_label, h) => {
    const d = describeThrown(h.make());
    expect(isPlainDescription(d)).toBe(true);
    expect(d.errorMessage).toMatch(h.message);
    expect(d.errorMessage).not.toContain('[object Object]');
  });

  it('errors keep their class, message and stack frames', () => {
    class PaymentDeclined extends Error {}
    const d = describeThrown(new PaymentDeclined('card refused'));
    expect(d.errorClass).toBe('PaymentDeclined');
    expect(d.errorMessage).toBe('card refused');
    expect(d.backtrace.length).toBeGreaterThan(0);
    expect(d.backtrace[0]).not.toMatch(/^at /);
    expect(describeThrown(new RangeError('r')).errorClass).toBe('RangeError');
    expect(describeThrown(Object.assign(new Error('n'), { name: 'Custom' })).errorClass).toBe('Custom');
  });

  it('non-errors are described with class Error and a non-error note', () => {
    expect(describeThrown({ a: 1 })).toEqual({ errorClass: 'Error', errorMessage: 'non-error thrown: { a: 1 }', backtrace: [] });
    expect(describeThrown(Symbol()).errorMessage).toBe('non-error thrown: Symbol()');
  });
});
