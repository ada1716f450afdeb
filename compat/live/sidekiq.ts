/**
 * The live Sidekiq 6.4.1 driver, for the tests in compat/live and the capture tool.
 *
 * There is one driver: it lives in src/compat/live/driver.ts (the `kiqgate compat --live-sidekiq`
 * command uses it from the package); this module re-exports it under its historical path.
 */
export * from '../../src/compat/live/driver.js';
