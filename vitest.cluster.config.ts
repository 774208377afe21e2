import { defineConfig } from 'vitest/config';

/** The cluster's coordination layer against real etcd members (`npm run test:cluster`); not in `npm test`. */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
