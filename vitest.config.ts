import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { POWERTOOLS_DEV: 'true', POWERTOOLS_METRICS_DISABLED: 'true' },
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
