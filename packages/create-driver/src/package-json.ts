import { CONTRACT_RANGE, DEPENDENCY_RANGES, DEV_DEPENDENCY_RANGES } from './versions.js';

/** The generated driver's package.json: an ESM + CommonJS package that declares itself a driver. */
export function driverPackageJson(name: string, description: string): Record<string, unknown> {
  return {
    name,
    version: '0.1.0',
    description,
    type: 'module',
    engines: { node: '>=20.19' },
    main: './dist/index.cjs',
    module: './dist/index.js',
    types: './dist/index.d.cts',
    exports: {
      '.': {
        import: { types: './dist/index.d.ts', default: './dist/index.js' },
        require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
      },
      './package.json': './package.json',
    },
    files: ['dist', 'README.md'],
    'nova-common': { driver: true, contract: CONTRACT_RANGE },
    scripts: {
      build: 'tsup',
      test: 'vitest run',
      typecheck: 'tsc --noEmit -p tsconfig.json',
      conformance: 'npm run build && nova-conformance run --driver . --config conformance.json',
    },
    dependencies: { ...DEPENDENCY_RANGES },
    devDependencies: { ...DEV_DEPENDENCY_RANGES },
  };
}
