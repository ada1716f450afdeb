/** Shared shapes of the compat suite: check names, results, and what a check gets to work with. */
import type { Redis } from 'ioredis';
import type { CommandLog } from './monitor.js';
import type { LoadedFixture } from './fixture.js';

export const CHECKS = ['decode', 'roundtrip', 'run', 'produce', 'lifecycle'] as const;
export type CheckName = (typeof CHECKS)[number];

/** The outcome of one check group on one scenario. `na` set means it did not apply. */
export interface CheckResult {
  passed: number;
  total: number;
  failures: string[];
  na?: string;
}

export interface ScenarioResult {
  name: string;
  system: string;
  version: string;
  checks: Record<CheckName, CheckResult>;
  /**
   * Why the scenario fails as a whole, apart from its checks: a system or version kiqgate does
   * not speak (its checks are then not run), a check that was not run, or no check that applied.
   */
  failures: string[];
  ok: boolean;
}

/** What a check may use: a Redis connection, the command log, and a namespace of its own. */
export interface CheckContext {
  redisUrl: string;
  redis: Redis;
  monitor: CommandLog;
  /** A fresh key prefix for this check (never shared, removed afterwards). */
  namespace: string;
}

export type Check = (fx: LoadedFixture, ctx: CheckContext) => Promise<CheckResult>;

export function notApplicable(reason: string): CheckResult {
  return { passed: 0, total: 0, failures: [], na: reason };
}

/** Collects the outcomes of a check's items. */
export class Tally {
  passed = 0;
  total = 0;
  readonly failures: string[] = [];
  pass(): void {
    this.passed++;
    this.total++;
  }
  fail(why: string): void {
    this.total++;
    this.failures.push(why);
  }
  check(ok: boolean, why: () => string): void {
    if (ok) this.pass();
    else this.fail(why());
  }
  result(naReason: string): CheckResult {
    return this.total === 0 ? notApplicable(naReason) : { passed: this.passed, total: this.total, failures: this.failures };
  }
}
