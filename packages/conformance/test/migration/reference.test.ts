import { guard, InstanceSpecSchema, type ComputeDriver, type MigrationTarget } from '@nova-common/core';
import { createReferenceBackend, referenceManifest, type ReferenceDriverConfig } from '@nova-common/core/testing';
import { describe, expect, it } from 'vitest';
import { renderMigrationResults, runMigrationSuite, type MigrationHosts } from '../../src/index.js';
import { OVERSIZED_FLAVOR, smallFlavor } from '../../src/model/arbitraries.js';

const IMAGE = { id: 'cirros', diskFormat: 'qcow2', containerFormat: 'bare' } as const;

/** Two reference hosts, each its own simulated backend (and witness); `wrap` plants a bug in A's driver. */
function referenceHosts(config: ReferenceDriverConfig = {}, wrap: (d: ComputeDriver) => ComputeDriver = (d) => d): MigrationHosts {
  const a = createReferenceBackend(config);
  const b = createReferenceBackend(config);
  return {
    a: guard(wrap(a.createDriver())),
    b: guard(b.createDriver()),
    kind: referenceManifest.name,
    spec: (uuid, salt) => ({
      uuid,
      name: `migrate-${salt}`,
      flavor: smallFlavor(1, 256, 1),
      image: IMAGE,
      metadata: { purpose: 'migration', salt: String(salt) },
      networkInfo: [{ id: `00000000-0000-4000-8000-${String(salt).padStart(12, '0')}`, address: 'fa:16:3e:00:00:01', network: { id: 'net-1' } }],
      blockDeviceInfo: { ephemerals: [], volumes: [{ volumeId: `00000000-0000-4000-9000-${String(salt).padStart(12, '0')}`, connectionInfo: { driverVolumeType: 'file', path: '/srv/volumes/v1' } }] },
    }),
    resizeTo: (f) => ({ ...f, id: `${f.id}-bigger`, name: `${f.name}-bigger`, memoryMb: f.memoryMb * 2, vcpus: f.vcpus + 1 }),
    oversized: OVERSIZED_FLAVOR,
    witnesses: { a: a.witness, b: b.witness },
  };
}

describe('the two-host migration suite', () => {
  it('passes on two reference hosts: every property runs', async () => {
    const results = await runMigrationSuite(referenceHosts(), { runId: 'ref-pass' });
    console.log(renderMigrationResults(results));
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['P-MIGRATE-STATES', 'passed'],
      ['P-MIGRATE-REFUSALS', 'passed'],
      ['P-MIGRATE-ROUND-TRIP', 'passed'],
      ['P-MIGRATE-PROGRESS', 'passed'],
      ['P-MIGRATE-IN-PLACE', 'passed'],
      ['P-MIGRATE-EVACUATE', 'passed'],
    ]);
    // LIVE and COLD from the five states the reference reaches: ten cases.
    expect(results[0]!.log.filter((l) => l.startsWith('case ')).length).toBe(10);
  });

  it('passes with eventually consistent inventory (the release delay is waited for, within its bound)', async () => {
    const results = await runMigrationSuite(referenceHosts({ releaseDelayMs: 30 }), { runId: 'ref-delay' });
    expect(results.every((r) => r.status === 'passed'), renderMigrationResults(results)).toBe(true);
  });

  it('passes on multi-node (bare-metal-like) reference hosts: a node is held for the instance, then released', async () => {
    const results = await runMigrationSuite(referenceHosts({ nodes: 3 }), { runId: 'ref-nodes' });
    expect(results.filter((r) => r.status === 'failed'), renderMigrationResults(results)).toEqual([]);
    expect(results.filter((r) => r.status === 'passed').length).toBeGreaterThanOrEqual(3);
  });

  it('skips live migration and the resize in place when a host declares them missing, and still checks cold migration', async () => {
    const results = await runMigrationSuite(referenceHosts({ disabledCapabilities: ['operation.live-migrate', 'operation.resize-in-place'] }), { runId: 'ref-cold' });
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['P-MIGRATE-STATES', 'passed'],
      ['P-MIGRATE-REFUSALS', 'passed'],
      ['P-MIGRATE-ROUND-TRIP', 'passed'],
      ['P-MIGRATE-PROGRESS', 'passed'],
      ['P-MIGRATE-IN-PLACE', 'skipped'],
      ['P-MIGRATE-EVACUATE', 'passed'],
    ]);
    expect(results[0]!.log.filter((l) => l.startsWith('case LIVE')).length).toBe(0);
  });

  it('fails a source that keeps a copy of what it moved (R-MIGRATE-ONE-HOST), naming the rule', async () => {
    const leaky = (d: ComputeDriver): ComputeDriver => {
      const copy = { ...d } as Record<string, unknown>;
      for (const k of Object.keys(d) as (keyof ComputeDriver)[]) if (typeof d[k] === 'function') copy[k] = (d[k] as (...a: unknown[]) => unknown).bind(d);
      // The planted bug: after a migration, the source spawns the instance again from its own record.
      copy.migrate = async (uuid: string, target: MigrationTarget) => {
        const info = await d.getInfo(uuid);
        await d.migrate!(uuid, target);
        await d.spawn(InstanceSpecSchema.parse({ uuid, name: info.name, flavor: target.flavor, image: IMAGE, metadata: info.metadata }));
      };
      return copy as unknown as ComputeDriver;
    };
    const results = await runMigrationSuite(referenceHosts({}, leaky), { runId: 'ref-leak', only: ['P-MIGRATE-STATES'] });
    expect(results[0]!.status).toBe('failed');
    expect(results[0]!.failure!.rule).toBe('R-MIGRATE-ONE-HOST');
    expect(results[0]!.failure!.message).toMatch(/listed by \[a, b\]/);
  });

  it('fails a destination that forgets its reservation (R-MIGRATE-RESERVE)', async () => {
    const forgetful = (d: ComputeDriver): ComputeDriver => d;
    const hosts = referenceHosts({}, forgetful);
    const b = hosts.b.raw;
    const unreserving = guard({
      ...Object.fromEntries(Object.keys(b).map((k) => [k, (b as unknown as Record<string, (...a: unknown[]) => unknown>)[k]!.bind(b)])),
      // The planted bug: the destination answers a target but reserves nothing.
      prepareMigration: async (request: Parameters<NonNullable<ComputeDriver['prepareMigration']>>[0]) => {
        const target = await b.prepareMigration!(request);
        await b.abortMigration!(target.migrationId);
        return target;
      },
    } as unknown as ComputeDriver);
    const results = await runMigrationSuite({ ...hosts, b: unreserving }, { runId: 'ref-reserve', only: ['P-MIGRATE-STATES'] });
    expect(results[0]!.status).toBe('failed');
    expect(results[0]!.failure!.rule).toBe('R-MIGRATE-RESERVE');
  });

  /** A's driver with its methods bound, and `extra` replacing some of them: where a test plants a bug. */
  const planted = (extra: (d: ComputeDriver) => Partial<ComputeDriver>) => (d: ComputeDriver): ComputeDriver => {
    const bound = Object.fromEntries(
      [...new Set([...Object.keys(d), ...Object.getOwnPropertyNames(Object.getPrototypeOf(d))])]
        .filter((k) => k !== 'constructor' && typeof (d as unknown as Record<string, unknown>)[k] === 'function')
        .map((k) => [k, (d as unknown as Record<string, (...a: unknown[]) => unknown>)[k]!.bind(d)]),
    );
    return { ...bound, ...extra(d) } as unknown as ComputeDriver;
  };
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('fails a source whose progress read waits for the migration to end (R-MIGRATE-PROGRESS)', async () => {
    let moving: Promise<void> = Promise.resolve();
    const waiting = planted((d) => ({
      migrate: (uuid: string, target: MigrationTarget) => (moving = pause(1500).then(() => d.migrate!(uuid, target))),
      // The planted bug: the read answers only once the migration is over, as a read queued behind it would.
      getMigrationProgress: async (uuid: string) => {
        await moving.catch(() => undefined);
        return d.getMigrationProgress!(uuid);
      },
    }));
    const results = await runMigrationSuite(referenceHosts({}, waiting), { runId: 'ref-progress-wait', only: ['P-MIGRATE-PROGRESS'] });
    expect(results[0]!.failure?.rule, renderMigrationResults(results)).toBe('R-MIGRATE-PROGRESS');
    expect(results[0]!.failure!.message).toMatch(/no progress read answered before it ended/);
  });

  it('fails a source whose phases go backwards (R-MIGRATE-PROGRESS)', async () => {
    let running: MigrationTarget | undefined;
    let reads = 0;
    const backwards = planted((d) => ({
      migrate: async (uuid: string, target: MigrationTarget) => {
        running = target;
        await pause(300);
        await d.migrate!(uuid, target);
        running = undefined;
      },
      // The planted bug: CLEANING, then COPYING again.
      getMigrationProgress: async (uuid: string) => {
        if (running === undefined) return d.getMigrationProgress!(uuid);
        const phase = reads++ === 0 ? 'CLEANING' : 'COPYING';
        return { instanceUuid: uuid, phase, migrationId: running.migrationId, kind: running.kind };
      },
    }));
    const results = await runMigrationSuite(referenceHosts({}, backwards), { runId: 'ref-progress-back', only: ['P-MIGRATE-PROGRESS'] });
    expect(results[0]!.failure?.rule, renderMigrationResults(results)).toBe('R-MIGRATE-PROGRESS');
    expect(results[0]!.failure!.message).toMatch(/COPYING after CLEANING.*only move forward/);
  });
});
