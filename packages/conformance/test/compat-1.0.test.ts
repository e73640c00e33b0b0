import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CAPABILITY_CATALOG,
  CAPABILITY_IDS,
  CELL_CHANGES,
  CONTRACT_VERSION,
  DriverError,
  cellRuleId,
  loadDriver,
  type CapabilityId,
  type ComputeDriver,
  type DriverCapabilities,
  type LoadedDriver,
} from '@nova-common/core';
import { referenceManifest } from '@nova-common/core/testing';
import { MIGRATION_PROPERTY_IDS, runConformance, type RunResult, type SimulationHooks } from '../src/index.js';

// Contract 1.1 keeps drivers built against 1.0 working (R-BASELINE), and a 1.0 core refuses a 1.1 driver cleanly.
// The drivers are the packages as released for 1.0 (test/fixtures/contract-1.0), unpacked fresh for every run.

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = resolve(here, '..');
const coreDir = resolve(packageDir, '../core');
const fixtures = join(here, 'fixtures/contract-1.0');
/** Gitignored; under this package so the unpacked core finds zod as it would in a consumer's node_modules. */
const compatDir = join(packageDir, '.compat');
const core10Dir = join(compatDir, 'core-1.0');

/** The capabilities contracts 1.1 and 1.2 added. */
/** What the contract added after 1.0 (1.1 and 1.2): a 1.0 driver does not claim it. */
const ADDED_IN_1_1 = CAPABILITY_IDS.filter((id) => CAPABILITY_CATALOG[id].since !== '1.0.0');
// R-CANCEL came with 1.1, the two-host migration properties with 1.2: they hold later drivers only.
const ADDED_PROPERTIES = [...ADDED_IN_1_1.map((id) => `P-UNSUPPORTED-${id}`), 'P-CANCEL', ...MIGRATION_PROPERTY_IDS];

/** Unpack the core 1.0 tarball and give it the dependencies zod cannot be found for from here (those of its loader). */
function unpackCore10(): void {
  rmSync(compatDir, { recursive: true, force: true });
  mkdirSync(core10Dir, { recursive: true });
  execFileSync('tar', ['-xzf', join(fixtures, 'nova-common-core-1.0.0.tgz'), '-C', core10Dir, '--strip-components=1']);
  const fromCore = createRequire(join(coreDir, 'package.json'));
  mkdirSync(join(core10Dir, 'node_modules'));
  for (const dep of ['semver', 'resolve.exports']) {
    symlinkSync(dirname(fromCore.resolve(`${dep}/package.json`)), join(core10Dir, 'node_modules', dep), 'dir');
  }
}

interface Core10 {
  CONTRACT_VERSION: string;
  DriverLoadError: new (...args: never[]) => Error;
  loadDriver: (specifier: string, config: unknown, options?: { resolveFrom?: string }) => Promise<unknown>;
}

/** The 1.0 reference driver's test hooks. */
type Reference10 = ComputeDriver & { simulateCrash(uuid: string): void; simulateNoState(uuid: string): void };

const simulate: SimulationHooks = {
  crash: (d, uuid) => (d as Reference10).simulateCrash(uuid),
  noState: (d, uuid) => (d as Reference10).simulateNoState(uuid),
};

function failures(r: RunResult): string {
  return r.properties
    .filter((p) => p.status === 'failed')
    .map((p) => `${p.id}: ${p.counterexample?.message}\n${p.counterexample?.steps.map((s) => `  ${s.op} ${JSON.stringify(s.expected)} ${JSON.stringify(s.actual)}`).join('\n')}`)
    .join('\n');
}

beforeAll(() => {
  unpackCore10();
});

describe('a driver built against contract 1.0 under the current core', () => {
  let loaded: LoadedDriver;
  const reference10 = (): string => join(core10Dir, 'dist/testing.js');
  const create = (): ComputeDriver => loaded.manifest.create(loaded.manifest.configSchema.parse({}));

  beforeAll(async () => {
    // As a consumer names it: the path to the module of the unpacked package that exports the manifest.
    loaded = await loadDriver(reference10(), {});
  });

  it('the unpacked 1.0 package resolves zod from this workspace', () => {
    const zod = createRequire(reference10()).resolve('zod');
    expect(realpathSync(zod)).toBe(realpathSync(createRequire(join(packageDir, 'package.json')).resolve('zod')));
  });

  it('loads through the current loader, held to its baseline 1.0.0', () => {
    expect(CONTRACT_VERSION).toBe('1.2.0');
    expect(loaded.manifest).toMatchObject({ name: '@nova-common/core/testing', version: '1.0.0', contract: '^1.0.0' });
    expect(loaded.contractBaseline).toBe('1.0.0');
    expect(typeof (loaded.raw as Partial<Reference10>).simulateCrash).toBe('function');
    expect(typeof (loaded.raw as Partial<Reference10>).simulateNoState).toBe('function');
  });

  it('its declaration does not name the 1.1 capabilities; the guard reads them as missing and refuses their operations', async () => {
    const driver = loaded.driver;
    await driver.initHost();
    try {
      const raw: DriverCapabilities = await loaded.raw.getCapabilities();
      for (const id of ADDED_IN_1_1) expect(raw.capabilities, id).not.toHaveProperty(id);
      const caps = await driver.getCapabilities();
      for (const id of ADDED_IN_1_1) expect(caps.capabilities[id], id).toEqual({ level: 'missing' });
      for (const id of CAPABILITY_IDS.filter((c) => !ADDED_IN_1_1.includes(c))) {
        expect(caps.capabilities[id]?.level, id).toBe(raw.capabilities[id]?.level);
      }
      const list = await driver.listSnapshots().then(() => undefined, (e: unknown) => e);
      expect(list).toBeInstanceOf(DriverError);
      expect((list as DriverError).code).toBe('UNSUPPORTED');
      const restore = await driver.restoreState('6f1c1a52-1b0e-4a53-9d7b-5b0d8a1f2c3e', 'RUNNING').then(() => undefined, (e: unknown) => e);
      expect(restore).toBeInstanceOf(DriverError);
      expect((restore as DriverError).code).toBe('UNSUPPORTED');
    } finally {
      await driver.cleanupHost();
    }
  });

  for (const seed of [1, 7919, 15838, 104729, 2_000_003]) {
    it(`passes the current suite (seed ${seed}); what 1.1 added is skipped, its capabilities read as missing`, async () => {
      const r = await runConformance({ driver: create, seed, contract: loaded.manifest.contract, simulate, name: loaded.manifest.name });
      expect(r.summary.failed, failures(r)).toBe(0);
      expect(r.properties.find((p) => p.id === 'P-MODEL-SEQUENCES')?.status).toBe('passed');
      expect(r.stats!.steps).toBeGreaterThan(100);
      for (const id of ADDED_PROPERTIES) {
        const p = r.properties.find((x) => x.id === id);
        expect(p?.status, id).toBe('skipped');
        expect(p?.reason, id).toMatch(/contract 1\.[12]\.0/);
        expect(p?.reason, id).toMatch(/baseline 1\.0\.0\) predates it/);
      }
      for (const c of r.capabilities) {
        if (ADDED_IN_1_1.includes(c.id)) {
          expect(c.declared, c.id).toBe('missing');
          expect(c.status, c.id).toBe('unknown');
          expect(c.notes, c.id).toMatch(/predates it/);
        } else {
          expect(c.status, `${c.id}: ${c.notes}`).toBe('complete');
        }
      }
      // Every other property ran: the 1.0 driver declares every 1.0 capability complete, so its UNSUPPORTED checks are
      // skipped for that reason; its fixtures give no backend witness (its host is its own memory), so the restart
      // and witness properties are skipped saying so; the rest passed.
      for (const p of r.properties.filter((x) => !ADDED_PROPERTIES.includes(x.id))) {
        if (p.id.startsWith('P-UNSUPPORTED-')) expect(p.reason, p.id).toMatch(/ is declared complete$/);
        else if (p.id === 'P-RESTART' || p.id === 'P-BACKEND-WITNESS') {
          expect(p.status, p.id).toBe('skipped');
          expect(p.reason, p.id).toMatch(/witness/);
        }
        else expect(p.status, `${p.id}: ${p.reason}`).toBe('passed');
      }
    });
  }

  describe('the 1.0 cells are held', () => {
    const uuid = '0b5e3f0e-0000-4000-8000-0000000010aa';
    const spec = {
      uuid,
      name: 'compat',
      flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 1 },
      image: { id: 'img', diskFormat: 'raw', containerFormat: 'bare' },
    } as const;

    it('the 1.0 driver does what the 1.0 table says: rebuild from SHUTDOWN ends RUNNING', async () => {
      expect(CELL_CHANGES).toContainEqual(expect.objectContaining({ column: 'rebuild', state: 'SHUTDOWN', was: 'RUNNING', since: '1.1.0' }));
      const driver = loaded.driver;
      await driver.initHost();
      try {
        await driver.spawn(spec);
        await driver.powerOff(uuid);
        expect((await driver.getInfo(uuid)).powerState).toBe('SHUTDOWN');
        await driver.rebuild(uuid, { image: spec.image });
        expect((await driver.getInfo(uuid)).powerState).toBe('RUNNING');
        await driver.destroy(uuid);
      } finally {
        await driver.cleanupHost();
      }
    });

    it('judged by the 1.1 table instead, the same driver fails a cell 1.1 changed', async () => {
      // The 1.1 capabilities declared missing, so only the table differs from the runs above.
      const as11 = (): ComputeDriver => {
        const raw = create();
        const getCapabilities = raw.getCapabilities.bind(raw);
        raw.getCapabilities = async (...args) => {
          const caps = await getCapabilities(...args);
          const added = Object.fromEntries(ADDED_IN_1_1.map((id: CapabilityId) => [id, { level: 'missing' as const }]));
          return { ...caps, capabilities: { ...caps.capabilities, ...added } };
        };
        return raw;
      };
      const r = await runConformance({ driver: as11, seed: 1, contract: '^1.1.0', simulate, only: ['P-MODEL-SEQUENCES'] });
      const p = r.properties.find((x) => x.id === 'P-MODEL-SEQUENCES')!;
      expect(p.status).toBe('failed');
      const changed = CELL_CHANGES.map((c) => cellRuleId(c.column, c.state));
      expect(changed).toContain(p.counterexample?.rule);
    });
  });
});

describe('a driver built for a later contract under the 1.0 core', () => {
  it("the 1.0 loader refuses the current reference driver with INCOMPATIBLE_CONTRACT naming the range", async () => {
    const core10 = (await import(pathToFileURL(join(core10Dir, 'dist/index.js')).href)) as Core10;
    expect(core10.CONTRACT_VERSION).toBe('1.0.0');
    expect(existsSync(join(coreDir, 'dist/testing.js')), 'the current core must be built (pnpm --filter @nova-common/core build)').toBe(true);
    expect(referenceManifest.contract).toBe('^1.2.0');

    // As a consumer names it: the package from its node_modules, which is the current core.
    const outcome = await core10.loadDriver('@nova-common/core/testing', {}, { resolveFrom: packageDir }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(core10.DriverLoadError);
    const error = outcome as Error & { code: string; driverContract?: string; coreContract?: string; packageName: string };
    expect(error.code, error.message).toBe('INCOMPATIBLE_CONTRACT');
    expect(error.driverContract).toBe(referenceManifest.contract);
    expect(error.coreContract).toBe('1.0.0');
    expect(error.message).toContain('^1.2.0');
    expect(error.message).toMatch(/^INCOMPATIBLE_CONTRACT: cannot load driver "@nova-common\/core\/testing"/);
  });
});
