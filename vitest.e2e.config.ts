import { defineConfig } from 'vitest/config';

/** Browser tests of the web console (`npm run test:e2e`): Debian's Chromium driven by playwright-core. */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One browser and one broker per file; files run one after another on a 2-core machine.
    fileParallelism: false,
  },
});
