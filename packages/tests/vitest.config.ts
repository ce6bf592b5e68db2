import { defineConfig } from 'vitest/config';

// Every test has a deadline that fails it: nothing here may hang.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
