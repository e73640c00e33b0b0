import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing.ts', plugs: 'src/plugs/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Shared code goes to chunks both entry points import, so `index` and `testing` share one
  // DriverError class (instanceof works across them) in ESM and in CJS.
  splitting: true,
  // The CommonJS build is the ESM output rewritten, which turns `import()` into `require()`;
  // the loader imports drivers another way there (src/loader/import-module.ts).
  esbuildOptions(options, { format }) {
    options.define = { ...options.define, __NOVA_COMMON_CJS__: format === 'cjs' ? 'true' : 'false' };
  },
});
