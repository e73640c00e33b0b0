import { DriverError, guard, InstanceSpecSchema, type ComputeDriver, type MigrationRequest, type MigrationTarget } from '@nova-common/core';
import { createReferenceBackend, referenceManifest } from '@nova-common/core/testing';
import { describe, expect, it } from 'vitest';
import { renderMigrationDifferential, runMigrationDifferential, type MigrationHosts, type PairOutcome } from '../../src/index.js';
import { OVERSIZED_FLAVOR, smallFlavor } from '../../src/model/arbitraries.js';

const IMAGE = { id: 'cirros', diskFormat: 'qcow2', containerFormat: 'bare' } as const;

/** Every method of `d` bound to it, so a wrapper can replace a few. */
function bound(d: ComputeDriver): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const k of Object.keys(d) as (keyof ComputeDriver)[]) if (typeof d[k] === 'function') copy[k] = (d[k] as (...a: unknown[]) => unknown).bind(d);
  return copy;
}

/** Two reference hosts, each its own backend and witness; `wrap` plants a bug in a pair's drivers (it sees both raw drivers). */
function referencePair(wrap?: (a: ComputeDriver, b: ComputeDriver) => { a: ComputeDriver; b: ComputeDriver }): MigrationHosts {
  const backA = createReferenceBackend();
  const backB = createReferenceBackend();
  const raw = { a: backA.createDriver(), b: backB.createDriver() };
  const drivers = wrap ? wrap(raw.a, raw.b) : raw;
  return {
    a: guard(drivers.a),
    b: guard(drivers.b),
    kind: referenceManifest.name,
    spec: (uuid, salt) => ({
      uuid,
      name: `diff-${salt}`,
      flavor: smallFlavor(1, 256, 1),
      image: IMAGE,
      metadata: { purpose: 'migration-differential', salt: String(salt) },
      networkInfo: [{ id: `00000000-0000-4000-8000-${String(salt).padStart(12, '0')}`, address: 'fa:16:3e:00:00:01', network: { id: 'net-1' } }],
      blockDeviceInfo: { ephemerals: [], volumes: [{ volumeId: `00000000-0000-4000-9000-${String(salt).padStart(12, '0')}`, connectionInfo: { driverVolumeType: 'file', path: '/srv/volumes/v1' } }] },
    }),
    resizeTo: (f) => ({ ...f, id: `${f.id}-bigger`, name: `${f.name}-bigger`, memoryMb: f.memoryMb * 2, vcpus: f.vcpus + 1 }),
    oversized: OVERSIZED_FLAVOR,
    witnesses: { a: backA.witness, b: backB.witness },
  };
}

/** Planted bug: after a migration the source spawns the instance again from its own record (it stays on both hosts). */
const leavesCopy = (a: ComputeDriver, b: ComputeDriver) => {
  const wrapSource = (d: ComputeDriver): ComputeDriver => {
    const copy = bound(d);
    copy.migrate = async (uuid: string, target: MigrationTarget) => {
      const info = await d.getInfo(uuid).catch(() => undefined);
      await d.migrate!(uuid, target);
      if (info !== undefined) await d.spawn(InstanceSpecSchema.parse({ uuid, name: info.name, flavor: target.flavor, image: IMAGE, metadata: info.metadata }));
    };
    return copy as unknown as ComputeDriver;
  };
  return { a: wrapSource(a), b: wrapSource(b) };
};

/** Planted bug: a destination that has no room answers a target anyway (and reserves nothing). */
const acceptsOversized = (a: ComputeDriver, b: ComputeDriver) => {
  const wrapDest = (d: ComputeDriver): ComputeDriver => {
    const copy = bound(d);
    copy.prepareMigration = async (request: MigrationRequest) => {
      try {
        return await d.prepareMigration!(request);
      } catch (e) {
        if ((e as { code?: string }).code !== 'INSUFFICIENT_RESOURCES') throw e;
        const t = await d.prepareMigration!({ ...request, flavor: undefined });
        return { ...t, flavor: request.flavor ?? request.instance.flavor };
      }
    };
    return copy as unknown as ComputeDriver;
  };
  return { a: wrapDest(a), b: wrapDest(b) };
};

/** Planted bug: a paused instance moved live arrives running (the destination unpauses it). */
const unpausesAfterLive = (a: ComputeDriver, b: ComputeDriver) => {
  const wrapSource = (d: ComputeDriver, peer: ComputeDriver): ComputeDriver => {
    const copy = bound(d);
    copy.migrate = async (uuid: string, target: MigrationTarget) => {
      // Read without failing: the reference's own checks answer first.
      const before = await d.getInfo(uuid).then((i) => i.powerState, () => undefined);
      await d.migrate!(uuid, target);
      if (target.kind === 'LIVE' && before === 'PAUSED') await peer.unpause!(uuid).catch(() => d.unpause!(uuid));
    };
    return copy as unknown as ComputeDriver;
  };
  return { a: wrapSource(a, b), b: wrapSource(b, a) };
};

describe('the differential lockstep of migrations', () => {
  it('two reference pairs agree over many sequences', async () => {
    const pairs = { first: referencePair(), second: referencePair() };
    const r = await runMigrationDifferential({ pairs, numRuns: 200, maxCommands: 20, seed: 20261205 });
    console.log(renderMigrationDifferential(r));
    expect(r.divergence, renderMigrationDifferential(r)).toBeUndefined();
    expect(r.drivers).toEqual(['first', 'second']);
    // Sequences actually ran: 200 of up to 20 steps each.
    expect(r.steps).toBeGreaterThan(200 * 5);
    console.log(JSON.stringify(r.calls));
    // What agreed was exercised: moves, and refusals of each kind.
    expect(r.calls['migrate']?.['ok']).toBeGreaterThan(50);
    expect(r.calls['finishMigration']?.['ok']).toBeGreaterThan(50);
    expect(r.calls['abortMigration']?.['INVALID_STATE']).toBeGreaterThan(0);
    expect(r.calls['prepareMigration']?.['INVALID_INPUT']).toBeGreaterThan(0);
    expect(r.calls['prepareMigration']?.['INSUFFICIENT_RESOURCES']).toBeGreaterThan(0);
    expect(r.calls['prepareMigration']?.['INSTANCE_EXISTS']).toBeGreaterThan(0);
    expect(r.calls['migrate']?.['INVALID_STATE']).toBeGreaterThan(0);
    // The cleanup after every sequence: nothing listed or held on any host. (Inventory `used` is
    // not checked here: the reference leaks the usage of an instance a migrate overwrites on a
    // destination that spawned it after the prepare, which these sequences do.)
    for (const p of Object.values(pairs)) {
      for (const h of ['a', 'b'] as const) {
        expect(await p[h].listInstances()).toEqual([]);
        expect(await p.witnesses![h]!.listMachines()).toEqual([]);
      }
    }
  }, 120_000);

  it('finds a source that keeps a copy after migrate, shrunk to spawn, prepare, migrate', async () => {
    const r = await runMigrationDifferential({ pairs: { reference: referencePair(), leaky: referencePair(leavesCopy) }, numRuns: 100, seed: 42 });
    const report = renderMigrationDifferential(r);
    console.log(report);
    const d = r.divergence!;
    expect(d, report).toBeDefined();
    // Deterministic with this seed: exactly these three calls.
    expect(d.steps!.map((s) => s.op)).toEqual(['a.spawn', 'b.prepareMigration', 'a.migrate']);
    expect(d.stepIndex).toBe(2);
    expect(d.step.op).toBe('a.migrate');
    const slot = d.step.args[0] as string;
    const outcomes = d.outcomes as Record<string, PairOutcome>;
    expect(outcomes['reference']!.result).toBe('ok');
    expect(outcomes['reference']!.instances[slot]!.at).toBe('b');
    expect(outcomes['leaky']!.instances[slot]!.at).toBe('both');
    expect(report).toContain(`diverge at step 3 of 3 (a.migrate): ${slot} on b vs both`);
    expect(d.program).toContain(`3. await a.migrate(${slot}, m0);  // <- the pairs diverge here`);
  }, 120_000);

  it('finds a destination that accepts a flavor no node holds, shrunk to the refused prepare', async () => {
    const r = await runMigrationDifferential({ pairs: { reference: referencePair(), roomy: referencePair(acceptsOversized) }, numRuns: 200, seed: 7 });
    const report = renderMigrationDifferential(r);
    console.log(report);
    const d = r.divergence!;
    expect(d, report).toBeDefined();
    expect(d.step.op).toMatch(/^[ab]\.prepareMigration$/);
    expect(d.step.args[0]).toMatchObject({ kind: 'COLD', flavor: 'oversized' });
    expect(d.steps!.length).toBe(1);
    const outcomes = d.outcomes as Record<string, PairOutcome>;
    expect([outcomes['reference']!.result, outcomes['roomy']!.result]).toEqual(['INSUFFICIENT_RESOURCES', 'ok']);
  }, 120_000);

  it('finds a paused instance that arrives running after a live move', async () => {
    const r = await runMigrationDifferential({ pairs: { reference: referencePair(), waking: referencePair(unpausesAfterLive) }, numRuns: 2000, seed: 11 });
    const report = renderMigrationDifferential(r);
    console.log(report);
    const d = r.divergence!;
    expect(d, report).toBeDefined();
    // Deterministic with this seed: exactly these four calls.
    expect(d.steps!.map((s) => s.op)).toEqual(['a.spawn', 'a.pause', 'b.prepareMigration', 'a.migrate']);
    expect(d.steps![2]!.args[0]).toMatchObject({ kind: 'LIVE' });
    const slot = d.step.args[0] as string;
    const outcomes = d.outcomes as Record<string, PairOutcome>;
    expect([outcomes['reference']!.result, outcomes['waking']!.result]).toEqual(['ok', 'ok']);
    const power = (o: PairOutcome) => (o.instances[slot]!.info!.b as { powerState: string }).powerState;
    expect([power(outcomes['reference']!), power(outcomes['waking']!)]).toEqual(['PAUSED', 'RUNNING']);
    expect(report).toContain(`diverge at step 4 of 4 (a.migrate): ${slot} info`);
  }, 120_000);

  it('refuses fewer than two pairs', async () => {
    await expect(runMigrationDifferential({ pairs: { only: referencePair() } })).rejects.toThrow(/at least two pairs/);
  });

  it('a pair that refuses a target of its own host before anything else agrees with the reference (R-MIGRATE-SELF); one that looks the instance up first diverges', async () => {
    // What the contract says: INVALID_INPUT at target.sameHost before the instance is looked up.
    const strictPair = () => referencePair((a, b) => {
      const own = new Map<string, ComputeDriver>();
      const wrap = (d: ComputeDriver): ComputeDriver => {
        const copy = bound(d);
        copy.prepareMigration = async (request: MigrationRequest) => {
          const t = await d.prepareMigration!(request);
          own.set(t.migrationId, d);
          return t;
        };
        copy.migrate = async (uuid: string, target: MigrationTarget) => {
          if (own.get(target.migrationId) === d && !target.sameHost) throw new DriverError('INVALID_INPUT', { op: 'migrate', issues: [{ path: ['target', 'sameHost'], message: 'the target is this host' }] });
          return d.migrate!(uuid, target);
        };
        return copy as unknown as ComputeDriver;
      };
      return { a: wrap(a), b: wrap(b) };
    });
    const agreed = await runMigrationDifferential({ pairs: { reference: referencePair(), strict: strictPair() }, numRuns: 300, seed: 3 });
    expect(agreed.divergence, renderMigrationDifferential(agreed)).toBeUndefined();
    expect(agreed.calls['migrate']?.['INVALID_INPUT']).toBeGreaterThan(0);
    // The planted bug: a host that looks the instance up first answers INSTANCE_NOT_FOUND.
    const lookupFirst = () => referencePair((a, b) => {
      const wrap = (d: ComputeDriver): ComputeDriver => {
        const copy = bound(d);
        copy.migrate = async (uuid: string, target: MigrationTarget) => {
          if (!(await d.listInstances()).some((i) => i.uuid.toLowerCase() === uuid.toLowerCase())) throw new DriverError('INSTANCE_NOT_FOUND', { op: 'migrate', target: uuid });
          return d.migrate!(uuid, target);
        };
        return copy as unknown as ComputeDriver;
      };
      return { a: wrap(a), b: wrap(b) };
    });
    const found = await runMigrationDifferential({ pairs: { reference: referencePair(), lookupFirst: lookupFirst() }, numRuns: 300, seed: 3 });
    expect(found.divergence, renderMigrationDifferential(found)).toBeDefined();
    expect((found.divergence!.outcomes as Record<string, PairOutcome>)['lookupFirst']!.result).toBe('INSTANCE_NOT_FOUND');
  }, 120_000);

  it('spawns a second copy of a live instance on the other host only when every host declares operation.evacuate', async () => {
    // A pair that declares evacuate missing and fails any spawn of an instance its peer has: never asked to.
    const noEvacuate = (): MigrationHosts => {
      const backA = createReferenceBackend({ disabledCapabilities: ['operation.evacuate'] });
      const backB = createReferenceBackend({ disabledCapabilities: ['operation.evacuate'] });
      const raw = { a: backA.createDriver(), b: backB.createDriver() };
      const wrap = (d: ComputeDriver, peer: ComputeDriver): ComputeDriver => {
        const copy = bound(d);
        copy.spawn = async (spec: Parameters<ComputeDriver['spawn']>[0], o?: Parameters<ComputeDriver['spawn']>[1]) => {
          if ((await peer.listInstances()).some((x) => x.uuid.toLowerCase() === spec.uuid.toLowerCase())) throw new DriverError('INSTANCE_EXISTS', { op: 'spawn', target: spec.uuid });
          return d.spawn(spec, o);
        };
        return copy as unknown as ComputeDriver;
      };
      return { ...referencePair(), a: guard(wrap(raw.a, raw.b)), b: guard(wrap(raw.b, raw.a)), witnesses: { a: backA.witness, b: backB.witness } };
    };
    const r = await runMigrationDifferential({ pairs: { reference: referencePair(), noEvacuate: noEvacuate() }, numRuns: 300, seed: 9 });
    expect(r.divergence, renderMigrationDifferential(r)).toBeUndefined();
    expect(r.calls['spawn']?.['ok']).toBeGreaterThan(100);
  }, 120_000);
});
