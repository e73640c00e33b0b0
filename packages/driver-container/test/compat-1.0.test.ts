import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CAPABILITY_CATALOG,
  CAPABILITY_IDS,
  CONTRACT_VERSION,
  loadDriver,
  type ComputeDriver,
  type LoadedDriver,
} from '@nova-common/core';
import { MIGRATION_PROPERTY_IDS, runConformance, type RunResult } from '@nova-common/conformance';
import { EngineClient } from '../src/client/engine-client.js';
import { SOCKET, VOLUME_ROOT, adaptSpec, images, requireEngine, volumeConnection } from './helpers.js';

// The container driver as released for contract 1.0 (conformance's test/fixtures/contract-1.0), unchanged, under
// the current core: its `@nova-common/core` import resolves to this workspace's core 1.2. It must load, be held
// to its 1.0 baseline and pass the current suite on dockerd (R-BASELINE).

const packageDir = resolve(import.meta.dirname, '..');
const coreDir = resolve(packageDir, '../core');
const tarball = resolve(packageDir, '../conformance/test/fixtures/contract-1.0/nova-common-driver-container-1.0.0.tgz');
/** Gitignored; under this package so the unpacked driver resolves its dependencies from this package's node_modules. */
const compatDir = join(packageDir, '.compat');
const driverDir = join(compatDir, 'driver-container-1.0');

const OWNER = 'compat-1-0';
/** The 1.0 configuration schema (strict): no state directory, which 1.1 added. */
const CONFIG = { socketPath: SOCKET, volumeRoot: VOLUME_ROOT, ownerId: OWNER, stopTimeoutSeconds: 2 };

/** What the contract added after 1.0 (1.1 and 1.2): the 1.0 driver does not claim it. */
const ADDED_IN_1_1 = CAPABILITY_IDS.filter((id) => CAPABILITY_CATALOG[id].since !== '1.0.0');
// R-CANCEL came with 1.1, the two-host migration properties with 1.2: they hold later drivers only.
const ADDED_PROPERTIES = [...ADDED_IN_1_1.map((id) => `P-UNSUPPORTED-${id}`), 'P-CANCEL', ...MIGRATION_PROPERTY_IDS];

function failures(r: RunResult): string {
  return r.properties
    .filter((p) => p.status === 'failed')
    .map((p) => `${p.id}: ${p.counterexample?.message}\n${p.counterexample?.steps.map((s) => `  ${s.op} ${JSON.stringify(s.expected)} ${JSON.stringify(s.actual)}`).join('\n')}`)
    .join('\n');
}

describe('the container driver released for contract 1.0, under the current core, on dockerd', () => {
  let loaded: LoadedDriver;
  const client = new EngineClient({ socketPath: SOCKET });

  beforeAll(async () => {
    await (await requireEngine()).close();
    rmSync(compatDir, { recursive: true, force: true });
    mkdirSync(driverDir, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', driverDir, '--strip-components=1']);
    // As a consumer names it: the path to the unpacked package.
    loaded = await loadDriver(driverDir, CONFIG);
  });

  afterAll(async () => {
    await client.close();
  });

  it("its @nova-common/core import resolves to this workspace's core", () => {
    const fromDriver = createRequire(join(driverDir, 'package.json'));
    const corePackageJson = realpathSync(fromDriver.resolve('@nova-common/core/package.json'));
    expect(corePackageJson).toBe(realpathSync(join(coreDir, 'package.json')));
    expect((JSON.parse(readFileSync(corePackageJson, 'utf8')) as { version: string }).version).toBe(CONTRACT_VERSION);
    expect(CONTRACT_VERSION).toBe('1.2.0');
  });

  it('loads through the current loader, held to its baseline 1.0.0', () => {
    expect(loaded.manifest).toMatchObject({ name: '@nova-common/driver-container', version: '1.0.0', contract: '^1.0.0' });
    expect(loaded.packageJson['nova-common']).toEqual({ driver: true, contract: '^1.0.0' });
    expect(loaded.contractBaseline).toBe('1.0.0');
  });

  it('passes the current suite (runs 5): what 1.1 added is skipped, its capabilities read as missing', async () => {
    const create = (): ComputeDriver => loaded.manifest.create(loaded.manifest.configSchema.parse(CONFIG));
    const r = await runConformance({
      driver: create,
      contract: loaded.manifest.contract,
      runs: 5,
      adaptSpec,
      volumeConnection,
      images,
      settleTimeoutMs: 500,
      hangTimeoutMs: 3000,
      name: loaded.manifest.name,
      version: loaded.manifest.version,
      label: 'dockerd, driver released for 1.0',
    });
    expect(r.summary.failed, failures(r)).toBe(0);
    expect(r.properties.find((p) => p.id === 'P-MODEL-SEQUENCES')?.status).toBe('passed');
    for (const id of ADDED_PROPERTIES) {
      const p = r.properties.find((x) => x.id === id);
      expect(p?.status, id).toBe('skipped');
      expect(p?.reason, id).toMatch(/^introduced in contract 1\.[12]\.0; the driver's contract \(baseline 1\.0\.0\) predates it \(R-BASELINE\)$/);
    }
    for (const id of ADDED_IN_1_1) {
      const c = r.capabilities.find((x) => x.id === id);
      expect(c?.declared, id).toBe('missing');
      expect(c?.notes, id).toMatch(/predates it/);
    }
    // Nothing else is skipped for its contract.
    for (const p of r.properties.filter((x) => !ADDED_PROPERTIES.includes(x.id))) expect(p.reason ?? '', p.id).not.toMatch(/predates/);
  }, 1_200_000);

  it('left no container of its owner on the engine', async () => {
    const left = await client.listContainers({ label: [`io.nova-common.owner=${OWNER}`] });
    expect(left.map((c) => c.Names[0])).toEqual([]);
  });
});
