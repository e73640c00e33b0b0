import { describe, expect, it } from 'vitest';
import { CAPABILITY_CATALOG, CAPABILITY_IDS, type CapabilityId, type ComputeDriver, type InstanceSpec } from '@nova-common/core';
import { createReferenceDriver, referenceManifest, type ReferenceDriver, type ReferenceDriverConfig } from '@nova-common/core/testing';
import { MIGRATION_PROPERTY_IDS, runConformance, type RunResult, type SimulationHooks } from '../src/index.js';

/** Seeds for the default run: 50 different ones, spread out. */
const SEEDS = Array.from({ length: 50 }, (_, i) => 1 + i * 7919);

const simulate: SimulationHooks = {
  crash: (d: ComputeDriver, uuid: string) => (d as ReferenceDriver).simulateCrash(uuid),
  noState: (d: ComputeDriver, uuid: string) => (d as ReferenceDriver).simulateNoState(uuid),
};

function failures(r: RunResult): string {
  return r.properties
    .filter((p) => p.status === 'failed')
    .map((p) => `${p.id}: ${p.counterexample?.message}\n${p.counterexample?.steps.map((s) => `  ${s.op} ${JSON.stringify(s.expected)} ${JSON.stringify(s.actual)}`).join('\n')}`)
    .join('\n');
}

function expectClean(r: RunResult): void {
  expect(r.summary.failed, failures(r)).toBe(0);
  expect(r.summary.passed).toBeGreaterThan(0);
  expect(r.stats!.steps).toBeGreaterThan(100);
}

describe('the reference driver passes the default run', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}`, async () => {
      // The reference driver's own simulations act out of band, as a real backend's hooks do.
      // A second reference host (a new in-memory backend) for the two-host migration properties.
      const peer = { driver: () => createReferenceDriver(), kind: referenceManifest.name };
      const r = await runConformance({ driver: () => createReferenceDriver(), seed, name: 'reference', simulate, peer });
      expectClean(r);
      // Everything is declared and every capability is complete, from evidence.
      for (const c of r.capabilities) expect(c.status, `${c.id}: ${c.notes}`).toBe('complete');
      expect(r.properties.find((p) => p.id === 'P-MODEL-SEQUENCES')!.status).toBe('passed');
    });
  }
});

describe('the reference driver passes in its other configurations', () => {
  const configs: [string, ReferenceDriverConfig, number][] = [
    ['bare-metal-like: 3 nodes, 15 ms cleaning after destroy', { nodes: 3, releaseDelayMs: 15 }, 8],
    ['asynchronous events (5 ms) and release (5 ms)', { eventDelayMs: 5, releaseDelayMs: 5 }, 5],
    ['tight capacity: 4 vCPUs, 1 GiB', { capacity: { vcpus: 4, memoryMb: 1024, diskGb: 4, cpuAllocationRatio: 1, ramAllocationRatio: 1 } }, 5],
  ];
  for (const [label, config, n] of configs) {
    for (let i = 0; i < n; i++) {
      const seed = 1000 + i * 104729;
      it(`${label} (seed ${seed})`, async () => {
        expectClean(await runConformance({ driver: () => createReferenceDriver(config), seed }));
      });
    }
  }

  for (let i = 0; i < 5; i++) {
    const seed = 42 + i * 3571;
    it(`with simulated crashes and lost power states (seed ${seed})`, async () => {
      expectClean(await runConformance({ driver: () => createReferenceDriver(), seed, simulate }));
    });
  }

  const disabled: CapabilityId[] = [
    'operation.pause', 'operation.unpause', 'operation.rescue', 'operation.snapshot', 'console.serial.log', 'event.lifecycle', 'event.out-of-band', 'operation.extend-volume',
    // Migration, as bare metal declares it: each kind's calls raise UNSUPPORTED and change nothing.
    'operation.migrate', 'operation.live-migrate', 'operation.resize-in-place', 'operation.evacuate',
  ];
  for (let i = 0; i < 5; i++) {
    const seed = 7 + i * 15485863;
    it(`with capabilities declared missing, verified UNSUPPORTED (seed ${seed})`, async () => {
      const make = () => createReferenceDriver({ disabledCapabilities: disabled });
      const r = await runConformance({ driver: make, seed, simulate, peer: { driver: make, kind: referenceManifest.name } });
      expectClean(r);
      for (const id of CAPABILITY_IDS) {
        const c = r.capabilities.find((x) => x.id === id)!;
        expect(c.status, `${id}: ${c.notes}`).toBe(disabled.includes(id) ? 'missing' : 'complete');
      }
      for (const id of disabled) expect(r.properties.find((p) => p.id === `P-UNSUPPORTED-${id}`)!.status).toBe('passed');
      expect(r.properties.find((p) => p.id === 'P-EVENTS')!.status).toBe('skipped');
    });
  }

  it('a driver without the migration methods at all (as bare metal): every kind verified UNSUPPORTED', async () => {
    const make = (): ComputeDriver => {
      const d = createReferenceDriver({ disabledCapabilities: ['operation.migrate', 'operation.live-migrate', 'operation.resize-in-place', 'operation.evacuate'] });
      const bare: Record<string, unknown> = {};
      const methods = d as unknown as Record<string, unknown>;
      for (const k of Object.getOwnPropertyNames(Object.getPrototypeOf(d))) {
        if (k === 'constructor' || /Migration$|^migrate$/.test(k)) continue;
        if (typeof methods[k] === 'function') bare[k] = (methods[k] as (...a: unknown[]) => unknown).bind(d);
      }
      return bare as unknown as ComputeDriver;
    };
    const r = await runConformance({ driver: make, seed: 3, simulate });
    expectClean(r);
    for (const id of ['operation.migrate', 'operation.live-migrate', 'operation.resize-in-place'] as const) {
      expect(r.properties.find((p) => p.id === `P-UNSUPPORTED-${id}`)!.status, id).toBe('passed');
      expect(r.capabilities.find((c) => c.id === id)!.status, id).toBe('missing');
    }
  });

  it('leaves instances present before the run untouched', async () => {
    const foreign: InstanceSpec[] = [];
    const factory = async (): Promise<ComputeDriver> => {
      const d = createReferenceDriver();
      await d.spawn({
        uuid: '0b5e3f0e-0000-4000-8000-00000000f00d',
        name: 'not the suite',
        flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 0, ephemeralGb: 0, swapMb: 0, extraSpecs: {} },
        image: { id: 'img', diskFormat: 'raw', containerFormat: 'bare', minDiskGb: 0, minRamMb: 0, properties: {} },
        metadata: { owner: 'someone else' },
        networkInfo: [],
        blockDeviceInfo: { ephemerals: [], volumes: [] },
        powerOn: true,
      });
      await d.pause('0b5e3f0e-0000-4000-8000-00000000f00d');
      foreign.push();
      return d;
    };
    const r = await runConformance({ driver: factory, seed: 99 });
    expectClean(r);
    expect(r.properties.find((p) => p.id === 'P-LIST-OWNED')!.status).toBe('passed');
  });
});

describe('what a run cannot exercise is not claimed', () => {
  it('without a hook acting out of band, event.out-of-band is declared but unknown; without a second host, so is migration; the rest is complete', async () => {
    const r = await runConformance({ driver: () => createReferenceDriver(), seed: 5 });
    expectClean(r);
    const unjudged = ['event.out-of-band', ...CAPABILITY_IDS.filter((id) => CAPABILITY_CATALOG[id].profile === 'migration')];
    for (const id of unjudged) {
      const c = r.capabilities.find((x) => x.id === id)!;
      expect(c.status, id).toBe('unknown');
      expect(c.notes, id).toMatch(/not exercised|never called/);
    }
    for (const id of MIGRATION_PROPERTY_IDS) expect(r.properties.find((p) => p.id === id)!.reason, id).toMatch(/no second host/);
    for (const c of r.capabilities) if (!unjudged.includes(c.id)) expect(c.status, `${c.id}: ${c.notes}`).toBe('complete');
  });
});
