import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['server/src/**/*.test.ts', 'connectors/*/src/**/*.test.ts', 'connectors/*/test/**/*.test.ts', 'connectors/*/nodes/**/*.test.ts', 'connectors/*/credentials/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', '**/*.heavy.test.ts', 'test/console/**'],
    pool: 'forks',
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
