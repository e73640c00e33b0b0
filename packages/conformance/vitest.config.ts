import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const core = (p: string): string => fileURLToPath(new URL(`../core/src/${p}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Test against core's sources, so the suite's tests do not depend on core having been built.
    alias: [
      { find: /^@nova-common\/core\/testing$/, replacement: core('testing.ts') },
      { find: /^@nova-common\/core$/, replacement: core('index.ts') },
    ],
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
