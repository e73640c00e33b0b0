import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration files share one dockerd; the fault test stops and restarts it, so files run one at a time.
    fileParallelism: false,
  },
});
