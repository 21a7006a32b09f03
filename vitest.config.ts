import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'desk/src/**/*.test.ts', 'desk/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests bind real sockets and fork workers; two cores do not like many at once.
    fileParallelism: true,
    maxWorkers: 2,
    minWorkers: 1,
  },
});
