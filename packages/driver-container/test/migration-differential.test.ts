import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard, type InstanceSpecInput } from '@nova-common/core';
import { createReferenceBackend, referenceManifest } from '@nova-common/core/testing';
import { doubledMemory, renderMigrationDifferential, runMigrationDifferential, type MigrationHosts, type PairOutcome } from '@nova-common/conformance';
import { ContainerDriverConfigSchema } from '../src/config.js';
import { createContainerDriver } from '../src/driver/driver.js';
import { containerWitness } from '../src/witness.js';
import { DRIVER_NAME } from '../src/driver-name.js';
import { SOCKET, requireEngine, spec } from './helpers.js';
import { PODMAN_SOCKET, requirePodman } from './podman/helpers.js';

// The differential lockstep of migrations: the container pair (dockerd host A, podman host B)
// against a pair of reference hosts, the same generated sequences of migration-level commands
// in lockstep. Both engines must be up: the test fails loudly otherwise. This file's owner id,
// state dirs and names are its own, so it never touches another test's containers.

const OWNER = 'migration-differential';
const ROOT = '/tmp/nova-common/migration-differential';
const VOLUME_ROOT = `${ROOT}/volumes`;
const config = (socketPath: string, engine: string) =>
  ContainerDriverConfigSchema.parse({ socketPath, volumeRoot: VOLUME_ROOT, stateDir: `${ROOT}/state-${engine}`, ownerId: OWNER, stopTimeoutSeconds: 2 });
const a = config(SOCKET, 'docker');
const b = config(PODMAN_SOCKET, 'podman');
const witnesses = { a: containerWitness(a), b: containerWitness(b) };

/** Both pairs' instances: the container helpers' spec (busybox, the tiny flavor), with this file's names and metadata. */
const mdSpec = (uuid: string, salt: number): InstanceSpecInput => spec(uuid, { name: `mdiff-${salt}`, metadata: { test: 'migration-differential', salt: String(salt) } });
const OVERSIZED = { id: 'huge', name: 'huge', vcpus: 1024, memoryMb: 16 * 1024 * 1024, rootGb: 1 };

function referencePair(): MigrationHosts {
  const ra = createReferenceBackend();
  const rb = createReferenceBackend();
  return {
    a: guard(ra.createDriver()),
    b: guard(rb.createDriver()),
    kind: referenceManifest.name,
    spec: mdSpec,
    resizeTo: doubledMemory,
    oversized: OVERSIZED,
    witnesses: { a: ra.witness, b: rb.witness },
  };
}

beforeAll(async () => {
  await (await requireEngine()).close();
  await (await requirePodman()).close();
  mkdirSync(VOLUME_ROOT, { recursive: true });
});

afterAll(async () => {
  await witnesses.a.close?.();
  await witnesses.b.close?.();
});

/** The container pair as the test drives it: both hosts initialised, cleaned up after `body`. */
async function withContainerPair<T>(body: (pair: MigrationHosts) => Promise<T>): Promise<T> {
  const hostA = guard(createContainerDriver(a));
  const hostB = guard(createContainerDriver(b));
  await hostA.initHost();
  await hostB.initHost();
  try {
    return await body({ a: hostA, b: hostB, kind: DRIVER_NAME, spec: mdSpec, resizeTo: doubledMemory, oversized: OVERSIZED, witnesses });
  } finally {
    await hostA.cleanupHost();
    await hostB.cleanupHost();
  }
}

describe('differential lockstep of migrations: dockerd (A) and podman (B) against two reference hosts', () => {
  it('KNOWN DIVERGENCE (migrate on the destination host itself): the container host refuses the target with INVALID_INPUT, the reference answers INSTANCE_NOT_FOUND', async () => {
    // A migrate sent to the host the migration was prepared on, for an instance no host has:
    // the container driver first checks that target.sameHost matches whether the target is its
    // own engine (INVALID_INPUT at target.sameHost), the reference first looks the instance up
    // (INSTANCE_NOT_FOUND) and has no such check at all (given the instance, it moves it onto
    // its own host). R-GEN-ORDER puts INVALID_INPUT before INSTANCE_NOT_FOUND, but the contract
    // does not say that a target of the source's own host without sameHost is invalid input.
    // Asserted as it is until the contract and the reference decide; the container driver is
    // not changed here.
    const r = await withContainerPair((container) =>
      runMigrationDifferential({ pairs: { reference: referencePair(), container }, numRuns: 5, maxCommands: 8, seed: 1205, runId: `container-mdiff-own-${Date.now()}` }),
    );
    const report = renderMigrationDifferential(r);
    console.log(report);
    const d = r.divergence!;
    expect(d, report).toBeDefined();
    expect(d.steps!.map((s) => s.op)).toEqual(['b.prepareMigration', 'b.migrate']);
    const outcomes = d.outcomes as Record<string, PairOutcome>;
    expect([outcomes['reference']!.result, outcomes['container']!.result]).toEqual(['INSTANCE_NOT_FOUND', 'INVALID_INPUT']);
    // Everything else agreed at that step: nowhere, and the reservation counted on b.
    expect({ ...outcomes['container']!, result: '' }).toEqual({ ...outcomes['reference']!, result: '' });
    expect(await witnesses.a.listMachines()).toEqual([]);
    expect(await witnesses.b.listMachines()).toEqual([]);
  }, 300_000);

  it('without migrates on the destination host itself, the container pair and the reference pair agree on every step', async () => {
    const r = await withContainerPair((container) =>
      runMigrationDifferential({
        pairs: { reference: referencePair(), container },
        numRuns: 5,
        maxCommands: 8,
        seed: 1205,
        migrateToOwnHost: false,
        runId: `container-mdiff-${Date.now()}`,
      }),
    );
    console.log(renderMigrationDifferential(r));
    console.log(JSON.stringify(r.calls));
    expect(r.divergence, renderMigrationDifferential(r)).toBeUndefined();
    expect(r.steps).toBeGreaterThan(0);
    // Nothing of this owner is left on either engine after the run.
    expect(await witnesses.a.listMachines()).toEqual([]);
    expect(await witnesses.b.listMachines()).toEqual([]);
  }, 300_000);
});
