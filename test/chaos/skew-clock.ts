/**
 * Preload (`node --import tsx --import ./test/chaos/skew-clock.ts …`) that shifts this
 * process's wall clock by CHAOS_SKEW_MS: `Date.now()`, `new Date()` and
 * `performance.timeOrigin` (so `timeOrigin + performance.now()` is shifted too). Timers and
 * `performance.now()` itself stay monotonic. The real clock stays reachable as
 * `globalThis.__chaosRealNow` so the harness can measure lateness in real time.
 */
const skew = Number(process.env.CHAOS_SKEW_MS ?? 0);
const RealDate = Date;
const realNow = RealDate.now.bind(RealDate);
const realOrigin = performance.timeOrigin;

(globalThis as { __chaosRealNow?: () => number }).__chaosRealNow = realNow;

if (skew !== 0) {
  class SkewedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(realNow() + skew);
      else if (args.length === 1) super(args[0] as string | number | Date);
      else super(...(args as [number, number, number?, number?, number?, number?, number?]));
    }

    static override now(): number {
      return realNow() + skew;
    }
  }
  (globalThis as { Date: DateConstructor }).Date = SkewedDate as unknown as DateConstructor;
  Object.defineProperty(performance, 'timeOrigin', { value: realOrigin + skew, configurable: true });
}

export {};
