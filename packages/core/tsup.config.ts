import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Shared code goes to chunks both entry points import, so `index` and `testing` share one
  // DriverError class (instanceof works across them) in ESM and in CJS.
  splitting: true,
});
