import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration files share one libvirtd (the test driver's state and the QEMU guests);
    // running them one file at a time keeps the fault test's daemon restart from hitting others.
    fileParallelism: false,
  },
});
