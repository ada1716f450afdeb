import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'compat/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/chaos/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Files run in parallel worker processes; each test isolates itself by key namespace
    // or by its own redis-server, so they never see each other's keys.
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
  },
});
