import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', remote: 'src/remote.ts', cli: 'src/cli.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', remote: 'src/remote.ts' } },
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Shared code goes to chunks the entry points import, so `index` and `remote` share one copy
  // of the generated messages and the remote driver.
  splitting: true,
  // import.meta.url in the CJS build (the shipped proto/ folder is found from it).
  shims: true,
});
