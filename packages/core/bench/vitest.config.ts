import { defineConfig } from 'vitest/config';

// Benchmarks run as one vitest run: each *.bench.ts measures its cases side by side
// (interleaved rounds) and prints ns/op and ratios. Nothing here asserts a speed.
export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['bench/**/*.bench.ts'],
    testTimeout: 600_000,
    fileParallelism: false,
    silent: false,
  },
});
