import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The published builds, as consumers get them: this file reads dist/, so it runs after
// `pnpm --filter @nova-common/core build` (scripts/test.sh builds before testing).
const here = dirname(fileURLToPath(import.meta.url));
const coreDir = resolve(here, '..');
const fixtures = join(here, 'fixtures');
const consumers = join(fixtures, 'consumers');
const run = promisify(execFile);

async function consume(script: string, entry: string): Promise<Record<string, Record<string, unknown>>> {
  const entryPath = join(coreDir, 'dist', entry);
  expect(existsSync(entryPath), `${entryPath} is missing: build core first`).toBe(true);
  const { stdout } = await run(process.execPath, [join(consumers, script), entryPath, fixtures], { cwd: coreDir, timeout: 30_000 });
  return JSON.parse(stdout) as Record<string, Record<string, unknown>>;
}

const builds = [
  { build: 'CommonJS build (require)', script: 'from-require.cjs', entry: 'index.cjs' },
  { build: 'ESM build (import)', script: 'from-import.mjs', entry: 'index.js' },
];

describe.each(builds)('loadDriver from the $build', ({ script, entry }) => {
  it('loads ESM and CommonJS driver packages by name, subpath, directory, file and file: URL', async () => {
    const results = await consume(script, entry);
    expect(results['esm by name']).toEqual({ name: 'fixture-good-driver', version: '1.2.3', config: { nodeName: 'fixture-node', vcpus: 2 } });
    expect(results['esm by subpath']).toEqual({ name: 'fixture-good-driver', version: '1.2.3', config: { nodeName: 'fixture-node', vcpus: 8 } });
    expect(results['esm by directory']).toEqual(results['esm by subpath']);
    expect(results['esm by file URL']).toEqual(results['esm by subpath']);
    expect(results['esm by relative file']).toEqual({ name: 'fixture-loose-driver', version: '0.0.1', config: { nodeName: 'loose-node', vcpus: 2 } });
    expect(results['cjs by name']).toEqual({ name: 'fixture-cjs-driver', version: '0.4.0', config: { node: 'n1' } });
    expect(results['cjs by directory']).toEqual({ name: 'fixture-cjs-driver', version: '0.4.0', config: { node: 'cjs-node' } });
    expect(results['cjs by file']).toEqual(results['cjs by directory']);
    // The driver works through that build's guard, and its errors are that build's classes.
    expect(results.guarded).toEqual({ powerState: 'RUNNING', node: 'fixture-node', afterDestroy: 'INSTANCE_NOT_FOUND', isDriverError: true });
    expect(results.missing).toEqual({ code: 'NOT_INSTALLED', isDriverLoadError: true });
  });
});
