import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The CLI, loader and Python tests run dist/ as it ships: built once before the run.
    globalSetup: ['test/global-setup.ts'],
  },
});
