import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard, type InstanceSpecInput } from '@nova-common/core';
import { doubledMemory, referenceMigrationHosts, renderMigrationDifferential, runMigrationDifferential, whereIs, type MigrationHosts } from '@nova-common/conformance';
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

const referencePair = (): MigrationHosts => referenceMigrationHosts({ spec: mdSpec, resizeTo: doubledMemory, oversized: OVERSIZED });

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

/** Each call's result on a pair: 'ok' or the error code. */
const resultOf = (p: Promise<unknown>): Promise<string> => p.then(
  () => 'ok',
  (e: { code?: string }) => e.code ?? String(e),
);

const request = (pair: MigrationHosts, uuid: string) => ({ migrationId: randomUUID(), kind: 'COLD' as const, sourceDriver: pair.kind, instance: pair.spec(uuid, 0) });

/** A migrate sent to the host its migration was prepared on: first for an instance no host has, then for one spawned there after the prepare. */
async function migrateOnOwnHost(pair: MigrationHosts): Promise<string[]> {
  const uuid = randomUUID();
  try {
    const t = await pair.b.prepareMigration(request(pair, uuid));
    const absent = await resultOf(pair.b.migrate(uuid, t));
    const t2 = await pair.a.prepareMigration(request(pair, uuid));
    await pair.a.spawn(pair.spec(uuid, 0));
    const present = await resultOf(pair.a.migrate(uuid, t2));
    const { listed } = await whereIs(pair, uuid);
    await resultOf(pair.b.abortMigration(t.migrationId));
    await resultOf(pair.a.abortMigration(t2.migrationId).catch(() => pair.a.finishMigration(t2.migrationId)));
    return [absent, present, listed.join('+')];
  } finally {
    await pair.a.destroy(uuid);
    await pair.b.destroy(uuid);
  }
}

/** A migrate onto a host that spawned the instance after the prepare, while its first copy still lives on the source. */
async function migrateOntoACopy(pair: MigrationHosts): Promise<string[]> {
  const uuid = randomUUID();
  try {
    await pair.b.spawn(pair.spec(uuid, 0));
    const t = await pair.a.prepareMigration(request(pair, uuid));
    await pair.a.spawn(pair.spec(uuid, 0));
    const moved = await resultOf(pair.b.migrate(uuid, t));
    const { listed } = await whereIs(pair, uuid);
    await resultOf(pair.a.abortMigration(t.migrationId).catch(() => pair.a.finishMigration(t.migrationId)));
    return [moved, listed.join('+')];
  } finally {
    await pair.a.destroy(uuid);
    await pair.b.destroy(uuid);
  }
}

/** There (finished) and back, then abortMigration of the first, finished migration on the host the instance left. */
async function migrateAndBack(pair: MigrationHosts): Promise<string[]> {
  const uuid = randomUUID();
  try {
    await pair.a.spawn(pair.spec(uuid, 0));
    const m0 = await pair.b.prepareMigration(request(pair, uuid));
    const there = await resultOf(pair.a.migrate(uuid, m0));
    await pair.b.finishMigration(m0.migrationId);
    const m1 = await pair.a.prepareMigration(request(pair, uuid));
    const back = await resultOf(pair.b.migrate(uuid, m1));
    await pair.a.finishMigration(m1.migrationId);
    const abort = await resultOf(pair.b.abortMigration(m0.migrationId));
    const { listed } = await whereIs(pair, uuid);
    return [there, back, abort, listed.join('+')];
  } finally {
    await pair.a.destroy(uuid);
    await pair.b.destroy(uuid);
  }
}

const memoryUsed = async (d: MigrationHosts['b']): Promise<number> => (await d.getInventory()).nodes[0]!.resources['MEMORY_MB']!.used;

/**
 * There and back before the first migration is finished: the first one stays delivered although its
 * instance left (its reservation no longer counts on b, finish closes it, abort refuses it).
 */
async function backBeforeFinish(pair: MigrationHosts): Promise<(string | number)[]> {
  const uuid = randomUUID();
  try {
    const usedB = await memoryUsed(pair.b);
    await pair.a.spawn(pair.spec(uuid, 0));
    const m0 = await pair.b.prepareMigration(request(pair, uuid));
    const there = await resultOf(pair.a.migrate(uuid, m0));
    const m1 = await pair.a.prepareMigration(request(pair, uuid));
    const back = await resultOf(pair.b.migrate(uuid, m1));
    const heldOnB = (await memoryUsed(pair.b)) - usedB;
    const again = await resultOf(pair.a.migrate(uuid, m0));
    const abort = await resultOf(pair.b.abortMigration(m0.migrationId));
    const finish = await resultOf(pair.b.finishMigration(m0.migrationId));
    await pair.a.finishMigration(m1.migrationId);
    const { listed } = await whereIs(pair, uuid);
    return [there, back, heldOnB, again, abort, finish, listed.join('+')];
  } finally {
    await pair.a.destroy(uuid);
    await pair.b.destroy(uuid);
  }
}

describe('differential lockstep of migrations: dockerd (A) and podman (B) against two reference hosts', () => {
  // Four divergences earlier differential runs found between this pair and the reference pair,
  // each since decided by the contract and fixed on the side that was wrong; the same calls here,
  // on both pairs, must now agree.
  it('a target of the source\'s own host without sameHost is INVALID_INPUT before the instance is looked up (R-MIGRATE-SELF), on both pairs', async () => {
    const reference = await migrateOnOwnHost(referencePair());
    const container = await withContainerPair(migrateOnOwnHost);
    expect(reference).toEqual(['INVALID_INPUT', 'INVALID_INPUT', 'a']);
    expect(container).toEqual(reference);
    expect(await witnesses.a.listMachines()).toEqual([]);
    expect(await witnesses.b.listMachines()).toEqual([]);
  }, 300_000);

  it('a migrate onto a host that spawned the instance after the prepare is INSTANCE_EXISTS and both copies stay (R-MIGRATE-EXISTS), on both pairs', async () => {
    const reference = await migrateOntoACopy(referencePair());
    const container = await withContainerPair(migrateOntoACopy);
    expect(reference).toEqual(['INSTANCE_EXISTS', 'a+b']);
    expect(container).toEqual(reference);
    expect(await witnesses.a.listMachines()).toEqual([]);
    expect(await witnesses.b.listMachines()).toEqual([]);
  }, 300_000);

  it('abort of a migration finished earlier, after the instance left again, is INVALID_STATE (R-MIGRATE-ABORT), on both pairs', async () => {
    const reference = await migrateAndBack(referencePair());
    const container = await withContainerPair(migrateAndBack);
    expect(reference).toEqual(['ok', 'ok', 'INVALID_STATE', 'a']);
    expect(container).toEqual(reference);
    expect(await witnesses.a.listMachines()).toEqual([]);
    expect(await witnesses.b.listMachines()).toEqual([]);
  }, 300_000);

  it('there and back before the first migration is finished: the first stays delivered (its room released, finish closes it, abort and a second migrate refuse it), on both pairs', async () => {
    const reference = await backBeforeFinish(referencePair());
    const container = await withContainerPair(backBeforeFinish);
    expect(reference).toEqual(['ok', 'ok', 0, 'INVALID_INPUT', 'INVALID_STATE', 'ok', 'a']);
    expect(container).toEqual(reference);
    expect(await witnesses.a.listMachines()).toEqual([]);
    expect(await witnesses.b.listMachines()).toEqual([]);
  }, 300_000);

  it('short generated sequences: the container pair and the reference pair agree on every step', async () => {
    const r = await withContainerPair((container) =>
      runMigrationDifferential({ pairs: { reference: referencePair(), container }, numRuns: 40, maxCommands: 16, seed: 13, runId: `container-mdiff-${Date.now()}` }),
    );
    console.log(renderMigrationDifferential(r));
    console.log(JSON.stringify(r.calls));
    expect(r.divergence, renderMigrationDifferential(r)).toBeUndefined();
    // The sequences moved instances between the engines.
    expect(r.steps).toBeGreaterThan(10);
    expect(r.calls['migrate']?.['ok'] ?? 0).toBeGreaterThan(0);
    // Nothing of this owner is left on either engine after the run.
    expect(await witnesses.a.listMachines()).toEqual([]);
    expect(await witnesses.b.listMachines()).toEqual([]);
  }, 300_000);
});
