/**
 * The live Sidekiq 6.4.1 driver, for the tests in compat/live and the capture tool.
 *
 * There is one driver: it lives in src/compat/live/driver.ts (the `kiqgate compat --live-sidekiq`
 * command uses it from the package); this module re-exports it under its historical path.
 */
export * from '../../src/compat/live/driver.js';

import { requireRubySidekiq } from '../../src/compat/live/driver.js';

/**
 * Why the live tests cannot run here (Sidekiq missing, or not the 6.4.1 they assume), or
 * undefined. Each live file calls it in beforeAll and fails every test with that reason in
 * beforeEach, so a missing Ruby is a failure, never a skip.
 */
export function liveSidekiqProblem(): Error | undefined {
  try {
    const version = requireRubySidekiq();
    return version === '6.4.1' ? undefined : new Error(`these live tests expect sidekiq 6.4.1, found ${version}`);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}
