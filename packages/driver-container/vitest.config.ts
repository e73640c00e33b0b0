import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const conformanceSrc = fileURLToPath(new URL('../conformance/src/', import.meta.url));

export default defineConfig({
  resolve: {
    // The suite is used from its sources, so these tests do not depend on its build order.
    alias: [
      { find: /^@nova-common\/conformance\/vitest$/, replacement: `${conformanceSrc}vitest.ts` },
      { find: /^@nova-common\/conformance$/, replacement: `${conformanceSrc}index.ts` },
    ],
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    // Integration files share one dockerd; the fault test stops and restarts it, so files run one at a time.
    fileParallelism: false,
  },
});
