import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTRACT_VERSION, DriverError, DriverLoadError, loadDriver, type DriverLoadErrorCode } from '../src/index.js';
import { resolveDriver } from '../src/loader/resolve-driver.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, 'fixtures');
const modules = join(fixtures, 'node_modules');
const coreDir = resolve(here, '..');

/** Run loadDriver and return the DriverLoadError it must reject with. */
async function loadError(specifier: string, config: unknown, resolveFrom = fixtures): Promise<DriverLoadError> {
  const outcome = await loadDriver(specifier, config, { resolveFrom }).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome, `loadDriver(${specifier}) should have failed`).toBeInstanceOf(DriverLoadError);
  return outcome as DriverLoadError;
}

function expectCode(error: DriverLoadError, code: DriverLoadErrorCode): void {
  expect(error.code, error.message).toBe(code);
  expect(error.message.startsWith(`${code}: `)).toBe(true);
}

const uuid = '6f1c1a52-1b0e-4a53-9d7b-5b0d8a1f2c3e';
const spec = {
  uuid,
  name: 'loaded',
  flavor: { id: 'f1', name: 'm1.tiny', vcpus: 1, memoryMb: 512, rootGb: 1 },
  image: { id: 'img-1', diskFormat: 'raw', containerFormat: 'bare' },
} as const;

describe('loadDriver: a valid driver', () => {
  it('loads by package name from resolveFrom, applies config defaults and wraps the driver', async () => {
    const loaded = await loadDriver('fixture-good-driver', { vcpus: 4 }, { resolveFrom: fixtures });
    expect(loaded.manifest.name).toBe('fixture-good-driver');
    expect(loaded.packageJson.name).toBe('fixture-good-driver');
    expect(loaded.packageJson.version).toBe('1.2.3');
    expect(loaded.packageJson['nova-common']).toEqual({ driver: true, contract: '^1.0.0' });
    expect((loaded.raw as unknown as { config: unknown }).config).toEqual({ nodeName: 'fixture-node', vcpus: 4 });
    expect(loaded.driver.raw).toBe(loaded.raw);

    await loaded.driver.initHost();
    await loaded.driver.spawn(spec);
    const info = await loaded.driver.getInfo(uuid);
    expect(info).toMatchObject({ uuid, name: 'loaded', powerState: 'RUNNING', node: 'fixture-node' });
    const inventory = await loaded.driver.getInventory();
    expect(inventory.nodes[0]?.resources.VCPU).toMatchObject({ total: 4, used: 1 });
    await loaded.driver.destroy(uuid);
    const gone = await loaded.driver.getInfo(uuid).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(DriverError);
    expect((gone as DriverError).code).toBe('INSTANCE_NOT_FOUND');
  });

  it('follows the exports map with the import condition, and subpath exports', async () => {
    const main = resolveDriver('fixture-good-driver', fixtures);
    expect(main.entryPath).toBe(join(modules, 'fixture-good-driver', 'index.js'));
    const sub = await loadDriver('fixture-good-driver/manifest', {}, { resolveFrom: fixtures });
    expect(sub.manifest.name).toBe('fixture-good-driver');
    expect(sub.packageJson.name).toBe('fixture-good-driver');
  });

  it('resolves from a nested directory by walking up to the node_modules folder', async () => {
    const loaded = await loadDriver('fixture-good-driver', {}, { resolveFrom: join(fixtures, 'loose') });
    expect(loaded.manifest.version).toBe('1.2.3');
  });

  it('loads by absolute directory path, ./relative path, file path and file: URL', async () => {
    const dir = join(modules, 'fixture-good-driver');
    const byDir = await loadDriver(dir, {});
    expect(byDir.manifest.name).toBe('fixture-good-driver');
    const byRelative = await loadDriver('./node_modules/fixture-good-driver', {}, { resolveFrom: fixtures });
    expect(byRelative.packageJson.version).toBe('1.2.3');
    const byFile = await loadDriver(join(dir, 'manifest.js'), {});
    expect(byFile.packageJson.name).toBe('fixture-good-driver');
    const byUrl = await loadDriver(pathToFileURL(join(dir, 'index.js')).href, {});
    expect(byUrl.manifest.contract).toBe('^1.0.0');
  });

  it('loads a single module file outside any driver package, naming it after its manifest', async () => {
    const loaded = await loadDriver('./loose/loose-driver.mjs', {}, { resolveFrom: fixtures });
    expect(loaded.manifest.name).toBe('fixture-loose-driver');
    // The nearest package.json is @nova-common/core's, which is not this driver's package.
    expect(loaded.packageJson).toEqual({ name: 'fixture-loose-driver', version: '0.0.1' });
  });

  it('loads a CommonJS driver through its legacy main field', async () => {
    const loaded = await loadDriver('fixture-cjs-driver', { node: 'n1' }, { resolveFrom: fixtures });
    expect(loaded.manifest.contract).toBe('>=1.0.0 <2.0.0');
    expect(await loaded.driver.listNodes()).toEqual([{ id: 'n1', available: true }]);
  });

  it('resolves subpath exports of a package that imports itself by name', () => {
    const resolved = resolveDriver('@nova-common/core/testing', coreDir);
    expect(resolved.entryPath).toBe(join(coreDir, 'dist', 'testing.js'));
    expect(existsSync(resolved.entryPath), 'run the build first: dist/testing.js is missing').toBe(true);
    expect(resolved.packageName).toBe('@nova-common/core');
  });
});

describe('loadDriver: every failure says exactly why', () => {
  it('NOT_INSTALLED names the package and every node_modules folder it looked in', async () => {
    const error = await loadError('fixture-not-installed', {});
    expectCode(error, 'NOT_INSTALLED');
    expect(error.packageName).toBe('fixture-not-installed');
    expect(error.searched?.[0]).toBe(join(fixtures, 'node_modules'));
    expect(error.searched).toContain(join(coreDir, 'node_modules'));
    expect(error.searched?.at(-1)).toBe('/node_modules');
    expect(error.message).toContain('package fixture-not-installed is not installed');
    expect(error.message).toContain(join(fixtures, 'node_modules'));
  });

  it('NOT_INSTALLED for a scoped name, a missing path, an unexported subpath and an empty specifier', async () => {
    const scoped = await loadError('@fixtures/absent-driver/sub', {});
    expectCode(scoped, 'NOT_INSTALLED');
    expect(scoped.packageName).toBe('@fixtures/absent-driver');
    expect(scoped.searched).toContain(join(fixtures, 'node_modules'));

    const path = await loadError('./node_modules/fixture-vanished', {});
    expectCode(path, 'NOT_INSTALLED');
    expect(path.message).toContain(`no file or directory at ${join(modules, 'fixture-vanished')}`);

    const subpath = await loadError('fixture-good-driver/internal', {});
    expectCode(subpath, 'NOT_INSTALLED');
    expect(subpath.message).toContain('does not expose "./internal"');

    expectCode(await loadError('', {}), 'NOT_INSTALLED');
    expectCode(await loadError('Not A Name', {}), 'NOT_INSTALLED');
  });

  it('NOT_A_DRIVER when the module has no manifest export, listing what it does export', async () => {
    for (const specifier of ['fixture-not-a-driver', join(modules, 'fixture-not-a-driver', 'index.js')]) {
      const error = await loadError(specifier, {});
      expectCode(error, 'NOT_A_DRIVER');
      expect(error.message).toContain('exports no `manifest`');
      expect(error.message).toContain('It exports: VERSION, leftPad');
      expect(error.resolvedPath).toBe(join(modules, 'fixture-not-a-driver', 'index.js'));
    }
  });

  it('INVALID_MANIFEST names every malformed manifest field', async () => {
    for (const specifier of ['fixture-bad-manifest', join(modules, 'fixture-bad-manifest')]) {
      const error = await loadError(specifier, {});
      expectCode(error, 'INVALID_MANIFEST');
      const paths = error.issues?.map((i) => i.path.join('.')).sort();
      expect(paths).toEqual(['manifest.configSchema', 'manifest.contract', 'manifest.create', 'manifest.version']);
      expect(error.message).toContain('manifest.version: must be a semver version');
      expect(error.message).toContain('manifest.contract: must be a semver range');
      expect(error.message).toContain('manifest.configSchema: must be a zod schema');
      expect(error.message).toContain('manifest.create: must be a function');
    }
  });

  it('INVALID_MANIFEST when the package.json nova-common field is malformed, before importing the code', async () => {
    const error = await loadError('fixture-bad-field', {});
    expectCode(error, 'INVALID_MANIFEST');
    const paths = error.issues?.map((i) => i.path.join('.'));
    expect(paths).toContain('package.json.nova-common.driver');
    expect(paths).toContain('package.json.nova-common');
    expect(error.message).toContain('"nova-common" field is malformed');
  });

  it('INVALID_MANIFEST when the manifest disagrees with package.json on contract, name and version', async () => {
    const error = await loadError('fixture-field-mismatch', {});
    expectCode(error, 'INVALID_MANIFEST');
    expect(error.issues?.map((i) => i.path.join('.'))).toEqual(['manifest.contract', 'manifest.name', 'manifest.version']);
    expect(error.message).toContain('manifest.contract: is "~1.0.0" but package.json "nova-common".contract is "^1.0.0"');
    expect(error.message).toContain('manifest.name: is "fixture-field-renamed" but package.json name is "fixture-field-mismatch"');
    expect(error.message).toContain('manifest.version: is "1.0.1" but package.json version is "1.0.0"');
  });

  it('INCOMPATIBLE_CONTRACT names the driver range and the core contract version (manifest)', async () => {
    for (const specifier of ['fixture-future-contract', join(modules, 'fixture-future-contract', 'index.js')]) {
      const error = await loadError(specifier, {});
      expectCode(error, 'INCOMPATIBLE_CONTRACT');
      expect(error.driverContract).toBe('^2.0.0');
      expect(error.coreContract).toBe(CONTRACT_VERSION);
      expect(error.message).toContain('implements contract ^2.0.0 (manifest.contract)');
      expect(error.message).toContain(`provides contract ${CONTRACT_VERSION}`);
      expect(error.packageName).toBe('fixture-future-contract');
    }
  });

  it('INCOMPATIBLE_CONTRACT from the package.json field, without running the driver code', async () => {
    // The fixture's module throws when imported: reaching this code proves it never was.
    const error = await loadError('fixture-future-field', {});
    expectCode(error, 'INCOMPATIBLE_CONTRACT');
    expect(error.driverContract).toBe('^2.0.0');
    expect(error.coreContract).toBe(CONTRACT_VERSION);
    expect(error.message).toContain('^2.0.0 (package.json "nova-common".contract)');
    expect(error.message).toContain(CONTRACT_VERSION);
    expect(error.cause).toBeUndefined();
  });

  it('INVALID_CONFIG lists each offending field path with its message', async () => {
    const config = { endpoint: 'not a url', pool: { size: 0 }, nodes: ['ok', 'Bad Name'], extra: true };
    for (const specifier of ['fixture-strict-config', join(modules, 'fixture-strict-config')]) {
      const error = await loadError(specifier, config);
      expectCode(error, 'INVALID_CONFIG');
      const paths = error.issues?.map((i) => i.path.join('.')).sort();
      // '' is the object itself: zod reports the unknown key `extra` there.
      expect(paths).toEqual(['', 'endpoint', 'nodes.1', 'pool.size']);
      expect(error.message).toContain('endpoint: ');
      expect(error.message).toContain('pool.size: ');
      expect(error.message).toContain('nodes.1: ');
      expect(error.message).toMatch(/\(root\): [^;]*"extra"/);
      expect(error.message).toContain("does not match fixture-strict-config's configSchema");
    }
  });

  it('INVALID_CONFIG for a missing config names the required fields', async () => {
    const error = await loadError('fixture-strict-config', undefined);
    expectCode(error, 'INVALID_CONFIG');
    expect(error.issues).toEqual([{ path: [], message: 'Invalid input: expected object, received undefined' }]);
    const nested = await loadError('fixture-strict-config', {});
    expect(nested.issues?.map((i) => i.path.join('.')).sort()).toEqual(['endpoint', 'nodes', 'pool']);
  });

  it('LOAD_FAILED when importing the module throws, keeping the cause', async () => {
    for (const specifier of ['fixture-import-throws', join(modules, 'fixture-import-throws', 'index.js')]) {
      const error = await loadError(specifier, {});
      expectCode(error, 'LOAD_FAILED');
      expect(error.cause).toBeInstanceOf(RangeError);
      expect(error.message).toContain('RangeError: fixture-import-throws: native binding libfixture.so.3 failed to initialise');
      expect(error.message).toContain(join(modules, 'fixture-import-throws', 'index.js'));
    }
  });

  it('LOAD_FAILED when create throws, keeping the cause', async () => {
    const error = await loadError('fixture-create-throws', {});
    expectCode(error, 'LOAD_FAILED');
    expect(error.message).toContain('manifest.create threw Error: fixture-create-throws: socket path');
    expect((error.cause as Error).message).toContain('/run/fixture.sock');
  });

  it('LOAD_FAILED when create returns an object without the mandatory methods (manifest via default export)', async () => {
    const error = await loadError('fixture-incomplete-driver', {});
    expectCode(error, 'LOAD_FAILED');
    expect(error.message).toContain('without the mandatory methods spawn, destroy');
  });

  it('is a plain Error subclass with a stable name and a JSON form', async () => {
    const error = await loadError('fixture-not-installed', {});
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DriverLoadError');
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ code: 'NOT_INSTALLED', packageName: 'fixture-not-installed' });
  });
});

describe('loadDriver: packages written on the fly', () => {
  const root = mkdtempSync(join(tmpdir(), 'nova-loader-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** A driver package in a scratch folder; its config schema is a plain object with safeParse (no zod). */
  function writePackage(name: string, pkg: Record<string, unknown> | string, body: string): string {
    const dir = join(root, 'node_modules', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), typeof pkg === 'string' ? pkg : JSON.stringify({ name, version: '1.0.0', type: 'module', ...pkg }));
    writeFileSync(join(dir, 'index.js'), body);
    return dir;
  }
  const manifestSource = (name: string, create: string) => `
    const configSchema = { safeParse: (input) => ({ success: true, data: input ?? {} }) };
    export const manifest = { name: '${name}', version: '1.0.0', contract: '^1.0.0', description: 'scratch', configSchema, create: ${create} };
  `;
  const mandatory = `{ initHost: async () => {}, cleanupHost: async () => {}, getCapabilities: async () => ({}), listNodes: () => new Promise(() => {}),
    getInventory: async () => ({ nodes: [] }), listInstances: async () => [], getInfo: async () => ({}), spawn: async () => {}, destroy: async () => {} }`;

  it('INVALID_MANIFEST when the package.json contract is not a semver range', async () => {
    writePackage('scratch-bad-range', { 'nova-common': { driver: true, contract: 'whatever' } }, manifestSource('scratch-bad-range', '() => ({})'));
    const error = await loadError('scratch-bad-range', {}, root);
    expectCode(error, 'INVALID_MANIFEST');
    expect(error.issues).toEqual([{ path: ['package.json', 'nova-common', 'contract'], message: '"whatever" is not a semver range' }]);
  });

  it('LOAD_FAILED when package.json is not JSON, naming the file', async () => {
    const dir = writePackage('scratch-broken-json', '{ "name": ', 'export const manifest = {};');
    const error = await loadError('scratch-broken-json', {}, root);
    expectCode(error, 'LOAD_FAILED');
    expect(error.message).toContain(`cannot read ${join(dir, 'package.json')}`);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('LOAD_FAILED when create returns a promise', async () => {
    writePackage('scratch-async-create', {}, manifestSource('scratch-async-create', `async () => (${mandatory})`));
    const error = await loadError('scratch-async-create', {}, root);
    expectCode(error, 'LOAD_FAILED');
    expect(error.message).toContain('manifest.create returned a promise');
  });

  it('accepts any config schema with safeParse, and passes the guard options through', async () => {
    writePackage('scratch-hanging', {}, manifestSource('scratch-hanging', `() => (${mandatory})`));
    const loaded = await loadDriver('scratch-hanging', undefined, { resolveFrom: root, guard: { timeouts: { listNodes: 20 } } });
    const outcome = await loaded.driver.listNodes().catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(DriverError);
    expect((outcome as DriverError).code).toBe('TIMEOUT');
    expect(loaded.packageJson).toMatchObject({ name: 'scratch-hanging', version: '1.0.0' });
  });
});
