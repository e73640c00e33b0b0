import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    // Test against the workspace sources, so the suite needs no prior build.
    alias: [
      { find: /^@nova-common\/core\/testing$/, replacement: src('../core/src/testing.ts') },
      { find: /^@nova-common\/core$/, replacement: src('../core/src/index.ts') },
      { find: /^@nova-common\/conformance\/vitest$/, replacement: src('../conformance/src/vitest.ts') },
      { find: /^@nova-common\/conformance$/, replacement: src('../conformance/src/index.ts') },
    ],
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration files share one Ironic; run files one at a time.
    fileParallelism: false,
  },
});
