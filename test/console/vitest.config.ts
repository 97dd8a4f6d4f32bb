import { defineConfig } from 'vitest/config';

/** The console's browser tests (`npm run test:console`): one file at a time, each with its own server and Chromium. */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/console/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
