import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts', vitest: 'src/vitest.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    splitting: false,
    external: ['vitest', '@nova-common/core', 'fast-check'],
  },
  {
    // The CLI: one ESM file with a shebang, run as `nova-conformance`.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    sourcemap: true,
    target: 'node20',
    splitting: false,
    banner: { js: '#!/usr/bin/env node' },
    external: ['vitest', '@nova-common/core', 'fast-check'],
  },
]);
