import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CAPABILITY_CATALOG, errors, guard, OPERATION_NAMES, type CapabilityId, type ComputeDriver } from '@nova-common/core';
import { createReferenceDriver } from '@nova-common/core/testing';
import {
  allProperties,
  faulty,
  planProperties,
  readReplayFile,
  resolveOptions,
  runConformance,
  runDifferential,
  runReplay,
  sweep,
  RUN_ID_KEY,
} from '../src/index.js';
import { mutant as pauseMutant } from './mutants/pause-does-not-pause.js';

const UUID = '6f1c2b9e-3d4a-4b5c-8d6e-7f8091a2b3c4';
const spec = (uuid = UUID, runId = 'nc-test') => ({
  uuid,
  name: `${runId}-x`,
  flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 0 },
  image: { id: 'img', diskFormat: 'raw' as const, containerFormat: 'bare' as const },
  metadata: { [RUN_ID_KEY]: runId },
});

describe('faulty()', () => {
  it('fails the nth call before the driver runs, with the injected code, and then behaves', async () => {
    const raw = createReferenceDriver();
    const f = faulty(raw, [{ op: 'spawn', nth: 1, fault: 'BACKEND_UNAVAILABLE' }]);
    const g = guard(f, { enforceCapabilities: false, retry: { attempts: 0 } });
    await g.initHost();
    await expect(g.spawn(spec())).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    await expect(g.getInfo(UUID)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
    await g.spawn(spec());
    expect((await g.getInfo(UUID)).powerState).toBe('RUNNING');
    expect(f.injected).toEqual([{ op: 'spawn', nth: 1, when: 'before', fault: 'BACKEND_UNAVAILABLE' }]);
    expect(f.calls.get('spawn')).toBe(2);
  });

  it('fails after the driver ran, and a hang becomes the guard\'s TIMEOUT', async () => {
    const raw = createReferenceDriver();
    const g = guard(faulty(raw, [{ op: 'spawn', when: 'after', fault: 'hang' }, { op: 'pause', when: 'after', fault: 'TIMEOUT' }]), {
      enforceCapabilities: false,
      timeouts: { spawn: 50 },
      retry: { attempts: 0 },
    });
    await g.initHost();
    await expect(g.spawn(spec())).rejects.toMatchObject({ code: 'TIMEOUT' });
    // The work was done before the hang: the instance exists, complete.
    expect((await raw.getInfo(UUID)).powerState).toBe('RUNNING');
    await expect(g.pause(UUID)).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect((await raw.getInfo(UUID)).powerState).toBe('PAUSED');
  });

  it('keeps operations the driver lacks absent, so UNSUPPORTED is unchanged', async () => {
    const raw = createReferenceDriver();
    const bare: Record<string, unknown> = {};
    for (const op of OPERATION_NAMES) if (op !== 'pause') bare[op] = (raw[op] as (...a: unknown[]) => unknown).bind(raw);
    const f = faulty(bare as unknown as ComputeDriver, []);
    expect('pause' in f).toBe(false);
    expect(typeof f.unpause).toBe('function');
    const g = guard(f, { enforceCapabilities: false });
    await expect(g.pause(UUID)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});

describe('volumes and declared transports', () => {
  it('generates no file volumes for a driver that does not declare the file transport', async () => {
    const rbdOnly = (): ComputeDriver => {
      const inner = createReferenceDriver();
      const d: Record<string, unknown> = {};
      for (const op of OPERATION_NAMES) d[op] = (inner[op] as (...a: unknown[]) => unknown).bind(inner);
      d.subscribeEvents = inner.subscribeEvents.bind(inner);
      d.getCapabilities = async () => ({ ...(await inner.getCapabilities()), volumeTransports: ['rbd'] });
      const refuse = (vols: { connectionInfo: { driverVolumeType: string } }[]): void => {
        if (vols.some((v) => v.connectionInfo.driverVolumeType !== 'rbd')) throw errors.invalidInput([{ path: ['connectionInfo'], message: 'rbd only' }]);
      };
      d.spawn = async (spec: { blockDeviceInfo: { volumes: { connectionInfo: { driverVolumeType: string } }[] } }, o?: undefined) => {
        refuse(spec.blockDeviceInfo.volumes);
        return inner.spawn(spec as never, o);
      };
      d.attachVolume = async (uuid: string, a: { connectionInfo: { driverVolumeType: string } }, o?: undefined) => {
        refuse([a]);
        return inner.attachVolume(uuid, a as never, o);
      };
      return d as unknown as ComputeDriver;
    };
    const r = await runConformance({ driver: rbdOnly, seed: 17, runs: 15 });
    expect(r.summary.failed, r.properties.find((p) => p.status === 'failed')?.counterexample?.message).toBe(0);
    expect(r.capabilities.find((c) => c.id === 'operation.attach-volume')!.status).toBe('unknown');
    // With rbd connections supplied, volumes are exercised again.
    const withRbd = await runConformance({
      driver: rbdOnly,
      seed: 17,
      runs: 15,
      volumeConnection: (volumeId) => ({ driverVolumeType: 'rbd', pool: 'volumes', image: `volume-${volumeId}`, hosts: [] }),
    });
    expect(withRbd.summary.failed).toBe(0);
    expect(withRbd.capabilities.find((c) => c.id === 'operation.attach-volume')!.status).toBe('complete');
  });
});

describe('sweep()', () => {
  it('removes only what carries the run id, and its snapshots', async () => {
    const raw = createReferenceDriver();
    const g = guard(raw, { enforceCapabilities: false });
    await g.initHost();
    await g.spawn(spec('6f1c2b9e-3d4a-4b5c-8d6e-000000000001', 'run-a'));
    await g.spawn(spec('6f1c2b9e-3d4a-4b5c-8d6e-000000000002', 'run-a'));
    await g.spawn(spec('6f1c2b9e-3d4a-4b5c-8d6e-000000000003', 'run-b'));
    await g.spawn({ ...spec('6f1c2b9e-3d4a-4b5c-8d6e-000000000004'), metadata: {} });
    const snap = await g.snapshot('6f1c2b9e-3d4a-4b5c-8d6e-000000000001', { name: 'run-a-snap' });
    await g.snapshot('6f1c2b9e-3d4a-4b5c-8d6e-000000000003', { name: 'run-b-snap' });
    const r = await sweep(raw, 'run-a');
    expect(r.destroyed.sort()).toEqual(['6f1c2b9e-3d4a-4b5c-8d6e-000000000001', '6f1c2b9e-3d4a-4b5c-8d6e-000000000002']);
    expect(r.snapshotsDeleted).toEqual([snap.imageId]);
    expect(r.failures).toEqual([]);
    expect((await g.listInstances()).map((s) => s.uuid).sort()).toEqual(['6f1c2b9e-3d4a-4b5c-8d6e-000000000003', '6f1c2b9e-3d4a-4b5c-8d6e-000000000004']);
    expect((await raw.listSnapshots()).map((s) => s.name)).toEqual(['run-b-snap']);
  });
});

describe('properties and plans', () => {
  it('has stable, unique ids with the contract version they were introduced in', () => {
    const all = allProperties();
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length);
    for (const p of all) {
      expect(p.id).toMatch(/^P-[A-Z0-9-]+(-[a-z0-9.-]+)?$/);
      // A property is as old as the capability it verifies missing, or the rule it checks (R-CANCEL came with 1.1), else the first contract.
      const cap = p.id.startsWith('P-UNSUPPORTED-') ? (p.id.slice('P-UNSUPPORTED-'.length) as CapabilityId) : undefined;
      expect(p.since).toBe(cap ? CAPABILITY_CATALOG[cap].since : p.id === 'P-CANCEL' ? '1.1.0' : p.id.startsWith('P-MIGRATE-') ? '1.2.0' : '1.0.0');
      expect(p.rules.length).toBeGreaterThan(0);
    }
    expect(all.map((p) => p.id)).toContain('P-UNSUPPORTED-operation.pause');
  });

  it('plans UNSUPPORTED checks for declared-missing capabilities and skips what is not declared', async () => {
    const raw = createReferenceDriver({ disabledCapabilities: ['operation.pause', 'event.lifecycle'] });
    const caps = await raw.getCapabilities();
    const plan = planProperties(caps, resolveOptions({}));
    const byId = new Map(plan.map((p) => [p.def.id, p]));
    expect(byId.get('P-UNSUPPORTED-operation.pause')!.skip).toBeUndefined();
    expect(byId.get('P-UNSUPPORTED-operation.reboot')!.skip).toMatch(/declared complete/);
    expect(byId.get('P-EVENTS')!.skip).toMatch(/not declared/);
    const filtered = planProperties(caps, resolveOptions({ profiles: ['power'] }));
    expect(filtered.find((p) => p.def.id === 'P-UNSUPPORTED-operation.pause')!.skip).toMatch(/outside the selected profiles/);
  });

  it('rejects bad options with a RangeError', () => {
    expect(() => resolveOptions({ runs: 0 })).toThrow(RangeError);
    expect(() => resolveOptions({ runId: 'bad id!' })).toThrow(RangeError);
  });
});

describe('counterexamples: replay files and programs', () => {
  it('replays exactly the shrunk sequence: it fails on the mutant and passes on the reference', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nc-replay-'));
    const r = await runConformance({ driver: pauseMutant.create, seed: 5, replayDir: dir, only: ['P-MODEL-SEQUENCES'] });
    const p = r.properties.find((x) => x.id === 'P-MODEL-SEQUENCES')!;
    expect(p.status).toBe('failed');
    const cx = p.counterexample!;
    expect(cx.replayFile).toMatch(/\.replay\.json$/);
    const doc = await readReplayFile(cx.replayFile!);
    expect(doc.calls.length).toBe(cx.steps.length);
    expect(doc.calls.at(-1)!.op).toBe('pause');
    const again = await runReplay(cx.replayFile!, pauseMutant.create);
    expect(again.ok).toBe(false);
    expect(again.failure).toMatchObject({ property: 'P-MODEL-SEQUENCES', rule: cx.rule });
    const onReference = await runReplay(doc, () => createReferenceDriver());
    expect(onReference.ok, onReference.failure?.message).toBe(true);
    expect(onReference.steps.length).toBe(doc.calls.length);
  });

  // The program must fail (exit non-zero, an assertion) while the bug is there and pass on
  // the reference driver with the same steps, leaving nothing behind on either.
  it.each([
    { mutant: 'list-missing-shutdown', property: 'P-LIST-OWNED', seed: 8 },
    { mutant: 'event-never-emitted', property: 'P-EVENTS', seed: 3 },
    { mutant: 'inventory-not-released', property: 'P-INVENTORY', seed: 3 },
    { mutant: 'rebuild-drops-interfaces', property: 'P-MODEL-SEQUENCES', seed: 3 },
    { mutant: 'extend-volume-ignores-size', property: 'P-MODEL-SEQUENCES', seed: 3 },
  ] as const)('prints a runnable TypeScript program that fails on $mutant ($property) and passes on the reference', async ({ mutant, property, seed }) => {
    const { mutant: m } = (await import(`./mutants/${mutant}.ts`)) as { mutant: { create: () => ComputeDriver } };
    const r = await runConformance({ driver: m.create, seed, only: [property], module: './driver-manifest.ts' });
    const p = r.properties.find((x) => x.id === property)!;
    expect(p.status, `${mutant} on seed ${seed}`).toBe('failed');
    const cx = p.counterexample!;
    expect(cx.program).toContain('import { manifest } from "./driver-manifest.ts";');
    expect(cx.program).toContain('} finally {');

    const onMutant = runProgram(cx.program, `import { mutant } from '../mutants/${mutant}.ts';\nexport const manifest = { create: () => mutant.create(), configSchema: { parse: (c: unknown) => c } };\n`);
    expect(onMutant.status, onMutant.stdout).not.toBe(0);
    expect(onMutant.stderr).toMatch(/AssertionError|ERR_ASSERTION/);
    expect(onMutant.left, 'the program destroys what it spawned').toEqual([]);

    const onReference = runProgram(cx.program, `import { createReferenceDriver } from '@nova-common/core/testing';\nexport const manifest = { create: () => createReferenceDriver(), configSchema: { parse: (c: unknown) => c } };\n`);
    expect(onReference.status, onReference.stderr).toBe(0);
    expect(onReference.left).toEqual([]);
  }, 90_000);
});

/**
 * Run a counterexample program beside a `driver-manifest.ts` with the given source. The
 * manifest's driver is wrapped so that, after the program's own cleanup, the instances still
 * listed are printed as the last stdout line (\`left: [...]\`).
 */
function runProgram(program: string, manifestSource: string): { status: number | null; stdout: string; stderr: string; left: string[] } {
  const dir = mkdtempSync(join(fileURLToPath(new URL('.', import.meta.url)), '.tmp-'));
  try {
    writeFileSync(join(dir, 'driver-under.ts'), manifestSource);
    writeFileSync(
      join(dir, 'driver-manifest.ts'),
      [
        `import { manifest as inner } from './driver-under.ts';`,
        `export const manifest = {`,
        `  configSchema: inner.configSchema,`,
        `  create(config: unknown) {`,
        `    const raw = inner.create(config as never) as Record<string, unknown> & { listInstances(): Promise<{ uuid: string }[]> };`,
        `    const cleanupHost = raw.cleanupHost as () => Promise<void>;`,
        `    // After the program disconnects: what is still there.`,
        `    raw.cleanupHost = async () => {`,
        `      const left = (await raw.listInstances()).map((s) => s.uuid);`,
        `      await cleanupHost.call(raw);`,
        `      process.on('exit', () => console.log('left: ' + JSON.stringify(left)));`,
        `    };`,
        `    return raw;`,
        `  },`,
        `};`,
        ``,
      ].join('\n'),
    );
    writeFileSync(join(dir, 'counterexample.ts'), program);
    const pkg = fileURLToPath(new URL('..', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx/esm', join(dir, 'counterexample.ts')], {
      cwd: pkg,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(pkg, 'bench/tsconfig.json') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const m = /^left: (.*)$/m.exec(run.stdout);
    return { status: run.status, stdout: run.stdout, stderr: run.stderr, left: m ? (JSON.parse(m[1]!) as string[]) : ['<cleanupHost never ran>'] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('runDifferential()', () => {
  it('finds no divergence between two reference drivers', async () => {
    const r = await runDifferential({ drivers: { a: () => createReferenceDriver(), b: () => createReferenceDriver() }, seed: 3, runs: 15 });
    expect(r.divergence).toBeUndefined();
    expect(r.steps).toBeGreaterThan(50);
    expect(r.drivers).toEqual(['a', 'b']);
  });

  it('reports the first step where a wrong driver differs, with both outcomes, shrunk', async () => {
    const r = await runDifferential({ drivers: { reference: () => createReferenceDriver(), wrong: pauseMutant.create }, seed: 3, runs: 30 });
    const d = r.divergence!;
    expect(d).toBeDefined();
    expect(d.step.op).toBe('pause');
    expect(Object.keys(d.outcomes).sort()).toEqual(['reference', 'wrong']);
    expect(JSON.stringify(d.outcomes.reference)).not.toBe(JSON.stringify(d.outcomes.wrong));
    expect(d.steps!.length).toBeLessThanOrEqual(4);
    expect(d.program).toContain('driver.pause(');
  });
});

describe('fault properties', () => {
  it('pass on the reference and fail when errors do not surface with their code', async () => {
    const ok = await runConformance({ driver: () => createReferenceDriver(), seed: 1, only: ['P-SPAWN-ATOMIC-FAULT', 'P-ERRORS-SURFACE'] });
    expect(ok.properties.filter((p) => p.status === 'passed').map((p) => p.id).sort()).toEqual(['P-ERRORS-SURFACE', 'P-SPAWN-ATOMIC-FAULT']);
    // A driver whose powerOff is not idempotent: retrying it after a fault that struck once
    // the work was done raises INVALID_STATE, so the retry does not converge.
    const strict = (): ComputeDriver => {
      const inner = createReferenceDriver();
      const d: Record<string, unknown> = {};
      for (const op of OPERATION_NAMES) d[op] = (inner[op] as (...a: unknown[]) => unknown).bind(inner);
      d.subscribeEvents = inner.subscribeEvents.bind(inner);
      d.powerOff = async (uuid: string, o?: { gracefulTimeoutMs?: number }) => {
        if ((await inner.getInfo(uuid)).powerState === 'SHUTDOWN') throw errors.invalidState(uuid, 'SHUTDOWN', 'powerOff');
        return inner.powerOff(uuid, o);
      };
      return d as unknown as ComputeDriver;
    };
    const r = await runConformance({ driver: strict, seed: 1, only: ['P-ERRORS-SURFACE'] });
    const p = r.properties.find((x) => x.id === 'P-ERRORS-SURFACE')!;
    expect(p.status).toBe('failed');
    expect(p.counterexample!.rule).toBe('R-GEN-NOOP');
    expect(p.counterexample!.steps.at(-1)!.op).toBe('powerOff');
  });
});

// Keep the helper file list honest.
it('reads its own replay format', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nc-fmt-'));
  const file = join(dir, 'x.replay.json');
  writeFileSync(file, JSON.stringify({ format: 'something-else' }));
  return expect(readReplayFile(file)).rejects.toThrow(/not a nova-conformance replay file/);
});
