import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const conformanceSrc = fileURLToPath(new URL('../conformance/src/', import.meta.url));

export default defineConfig({
  resolve: {
    // The suite is used from its sources, so these tests do not depend on its build order.
    alias: [{ find: /^@nova-common\/conformance$/, replacement: `${conformanceSrc}index.ts` }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Each file makes its own network namespaces and loop devices; one at a time keeps loop numbers readable in failures.
    fileParallelism: false,
  },
});
