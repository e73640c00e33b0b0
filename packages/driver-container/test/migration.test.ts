import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver, type MigrationRequestInput, type MigrationTarget } from '@nova-common/core';
import type { EngineClient } from '../src/client/engine-client.js';
import { createContainerDriver } from '../src/driver/driver.js';
import { CAPABILITY_NOTES } from '../src/driver/capabilities.js';
import { DRIVER_NAME } from '../src/driver-name.js';
import { SOCKET, requireEngine, spec, uuidv4 } from './helpers.js';
import { PODMAN_SOCKET, PODMAN_SCRIPT, requirePodman } from './podman/helpers.js';
import { inspectOf, readFileIn, tracesOf, writeFileIn } from './migration-helpers.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

// Cold migration and resize in place between the two real engines of this host (dockerd and podman, each its
// own socket, i.e. two hosts as the contract sees them). Needs both engines up: fails loudly otherwise.

const run = promisify(execFile);
const OWNER = 'migration-test';
// Both drivers allow the same volume root: a migrated container mounts the same host paths.
const VOLUME_ROOT = '/tmp/nova-common/migration/volumes';
const MIB = 1024 * 1024;
let dockerClient: EngineClient;
let podmanClient: EngineClient;
const make = (socketPath: string, engine: string): GuardedDriver =>
  guard(createContainerDriver({ socketPath, volumeRoot: VOLUME_ROOT, stateDir: `/tmp/nova-common/migration/state-${engine}`, ownerId: OWNER, stopTimeoutSeconds: 2 }));
const docker = make(SOCKET, 'docker');
const podman = make(PODMAN_SOCKET, 'podman');

beforeAll(async () => {
  dockerClient = await requireEngine();
  podmanClient = await requirePodman();
  mkdirSync(VOLUME_ROOT, { recursive: true });
  await docker.initHost();
  await podman.initHost();
});

afterAll(async () => {
  await docker.cleanupHost();
  await podman.cleanupHost();
  await dockerClient?.close();
  await podmanClient?.close();
});

const flavor = (memoryMb: number) => ({ id: `m${memoryMb}`, name: `m${memoryMb}`, vcpus: 1, memoryMb, rootGb: 1 });

/** Where the instance is listed: exactly one engine, or none. */
async function listedOn(uuid: string): Promise<string[]> {
  const out: string[] = [];
  if ((await docker.listInstances()).some((i) => i.uuid === uuid)) out.push('docker');
  if ((await podman.listInstances()).some((i) => i.uuid === uuid)) out.push('podman');
  return out;
}

const tracesOn = (client: EngineClient, uuid: string) => tracesOf(client, OWNER, uuid);

function request(uuid: string, sourceSpec: ReturnType<typeof spec>, extra: Partial<MigrationRequestInput> = {}): MigrationRequestInput {
  return { migrationId: uuidv4(), kind: 'COLD', sourceDriver: DRIVER_NAME, instance: sourceSpec, ...extra } as MigrationRequestInput;
}

async function usedMemory(d: GuardedDriver): Promise<number> {
  return (await d.getInventory()).nodes[0]!.resources['MEMORY_MB']!.used;
}

describe('capabilities', () => {
  it('declares cold migration, resize in place and evacuate (partial, with notes), live migration missing', async () => {
    for (const d of [docker, podman]) {
      const caps = await d.getCapabilities();
      expect(caps.capabilities['operation.migrate']).toEqual({ level: 'partial', notes: CAPABILITY_NOTES.migrate });
      expect(caps.capabilities['operation.resize-in-place']).toEqual({ level: 'partial', notes: CAPABILITY_NOTES.resizeInPlace });
      expect(caps.capabilities['operation.live-migrate']?.level).toBe('missing');
      expect(caps.capabilities['operation.evacuate']).toEqual({ level: 'partial', notes: CAPABILITY_NOTES.evacuate });
    }
  });
});

describe('cold migration dockerd -> podman and back, with a resize', () => {
  it('moves the instance with its data, labels, metadata, volume and VIF; listed on exactly one engine after each step', async () => {
    const uuid = uuidv4();
    const vifId = uuidv4();
    const volumeId = uuidv4();
    const volFile = path.join(VOLUME_ROOT, `mig-${volumeId}.img`);
    writeFileSync(volFile, 'volume content\n');
    const s = spec(uuid, {
      flavor: flavor(64),
      metadata: { role: 'db', 'x y': 'z' },
      networkInfo: [{ id: vifId, address: 'fa:16:3e:00:11:22', network: { id: `mig-net-${uuid}` } }],
      blockDeviceInfo: { volumes: [{ volumeId, deviceName: 'vdb', connectionInfo: { driverVolumeType: 'file', path: volFile } }] },
    });
    await docker.spawn(s);
    await writeFileIn(dockerClient, uuid, '/root', 'state.txt', 'written before the move\n');
    const before = await docker.getInfo(uuid);
    expect(before.powerState).toBe('RUNNING');

    // dockerd -> podman, 96 MiB.
    const req1 = request(uuid, s, { flavor: flavor(96) });
    const podmanUsed = await usedMemory(podman);
    const t1 = await podman.prepareMigration(req1);
    expect(t1).toMatchObject({ driver: DRIVER_NAME, instanceUuid: uuid, sameHost: false, flavor: { memoryMb: 96 } });
    // R-MIGRATE-IDEMPOTENT and R-MIGRATE-RESERVE, also for a new driver object on the same engine.
    expect(await podman.prepareMigration(req1)).toEqual(t1);
    expect(await usedMemory(podman)).toBe(podmanUsed + 96);
    const fresh = make(PODMAN_SOCKET, 'podman');
    await fresh.initHost();
    expect(await usedMemory(fresh)).toBe(podmanUsed + 96);
    await fresh.cleanupHost();
    expect(await listedOn(uuid)).toEqual(['docker']);
    await docker.migrate(uuid, t1);
    expect(await listedOn(uuid)).toEqual(['podman']);
    expect(await usedMemory(podman)).toBe(podmanUsed + 96); // the reservation became the instance's: counted once
    await expect(podman.abortMigration(t1.migrationId)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await podman.finishMigration(t1.migrationId);
    await podman.finishMigration(t1.migrationId);
    expect(await listedOn(uuid)).toEqual(['podman']);

    const onPodman = await podman.getInfo(uuid);
    expect(onPodman).toMatchObject({ uuid, name: before.name, powerState: 'RUNNING', metadata: before.metadata, volumes: before.volumes, interfaces: before.interfaces });
    expect((await inspectOf(podmanClient, uuid)).HostConfig.Memory).toBe(96 * MIB);
    expect(JSON.parse((await inspectOf(podmanClient, uuid)).Config.Labels!['io.nova-common.flavor']!)).toMatchObject({ memoryMb: 96 });
    expect(await readFileIn(podmanClient, uuid, '/root/state.txt')).toBe('written before the move\n');
    expect(await readFileIn(podmanClient, uuid, `/volumes/${volumeId}`)).toBe('volume content\n');
    expect(await tracesOn(dockerClient, uuid)).toEqual([]);

    // podman -> dockerd, stopped first: it arrives stopped, 128 MiB.
    await podman.powerOff(uuid);
    await writeFileIn(podmanClient, uuid, '/root', 'second.txt', 'written on podman\n');
    const t2 = await docker.prepareMigration(request(uuid, { ...s, flavor: flavor(96) }, { flavor: flavor(128) }));
    await podman.migrate(uuid, t2);
    expect(await listedOn(uuid)).toEqual(['docker']);
    await docker.finishMigration(t2.migrationId);
    const back = await docker.getInfo(uuid);
    expect(back).toMatchObject({ powerState: 'SHUTDOWN', metadata: before.metadata, volumes: before.volumes, interfaces: before.interfaces });
    expect((await inspectOf(dockerClient, uuid)).HostConfig.Memory).toBe(128 * MIB);
    await docker.powerOn(uuid);
    expect(await readFileIn(dockerClient, uuid, '/root/state.txt')).toBe('written before the move\n');
    expect(await readFileIn(dockerClient, uuid, '/root/second.txt')).toBe('written on podman\n');
    expect(await tracesOn(podmanClient, uuid)).toEqual([]);

    await docker.destroy(uuid);
    expect(await tracesOn(dockerClient, uuid)).toEqual([]);
    expect(await listedOn(uuid)).toEqual([]);
  });
});

describe('resize in place', () => {
  it('on dockerd, RUNNING: the new memory limit is in inspect, the data kept, the instance stays RUNNING on its host', async () => {
    const uuid = uuidv4();
    const s = spec(uuid, { flavor: flavor(64) });
    await docker.spawn(s);
    await writeFileIn(dockerClient, uuid, '/root', 'kept.txt', 'kept\n');
    const t = await docker.prepareMigration(request(uuid, s, { sameHost: true, flavor: flavor(160) }));
    expect(t.sameHost).toBe(true);
    await docker.migrate(uuid, t);
    await docker.finishMigration(t.migrationId);
    expect(await listedOn(uuid)).toEqual(['docker']);
    expect((await docker.getInfo(uuid)).powerState).toBe('RUNNING');
    expect((await inspectOf(dockerClient, uuid)).HostConfig.Memory).toBe(160 * MIB);
    expect(await readFileIn(dockerClient, uuid, '/root/kept.txt')).toBe('kept\n');
    await docker.destroy(uuid);
    expect(await tracesOn(dockerClient, uuid)).toEqual([]);
  });
});

describe('refusals leave everything as it was', () => {
  it('INVALID_STATE for a PAUSED cold migration; INVALID_INPUT for another driver kind; UNSUPPORTED for LIVE; INSTANCE_EXISTS', async () => {
    const uuid = uuidv4();
    const s = spec(uuid);
    await docker.spawn(s);
    await docker.pause(uuid);
    const t = await podman.prepareMigration(request(uuid, s));
    await expect(docker.migrate(uuid, t)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect((await docker.getInfo(uuid)).powerState).toBe('PAUSED');
    await docker.unpause(uuid);
    const other: MigrationTarget = { ...t, driver: 'libvirt' };
    await expect(docker.migrate(uuid, other)).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: ['target', 'driver'] }] });
    await expect(podman.prepareMigration(request(uuid, s, { sourceDriver: 'libvirt' }))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      issues: [{ path: ['request', 'sourceDriver'] }],
    });
    await expect(podman.prepareMigration(request(uuid, s, { kind: 'LIVE' }))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(docker.migrate(uuid, { ...t, kind: 'LIVE' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(docker.prepareMigration(request(uuid, s))).rejects.toMatchObject({ code: 'INSTANCE_EXISTS' });
    await podman.abortMigration(t.migrationId);
    await podman.abortMigration(t.migrationId);
    await expect(podman.finishMigration(t.migrationId)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
    expect(await listedOn(uuid)).toEqual(['docker']);
    expect((await docker.getInfo(uuid)).powerState).toBe('RUNNING');
    await docker.destroy(uuid);
    expect(await tracesOn(podmanClient, uuid)).toEqual([]);
  });

  it('INSUFFICIENT_RESOURCES when the flavor does not fit, and nothing held', async () => {
    const uuid = uuidv4();
    const used = await usedMemory(podman);
    const memory = (await podman.getInventory()).nodes[0]!.resources['MEMORY_MB']!;
    const tooBig = Math.ceil(memory.total * memory.allocationRatio) + 1;
    await expect(podman.prepareMigration(request(uuid, spec(uuid, { flavor: flavor(tooBig) })))).rejects.toMatchObject({ code: 'INSUFFICIENT_RESOURCES' });
    expect(await usedMemory(podman)).toBe(used);
  });

  it('a reservation aborted before migrate: migrate fails, the instance stays on the source as it was, nothing on the destination', async () => {
    const uuid = uuidv4();
    const s = spec(uuid);
    await docker.spawn(s);
    await writeFileIn(dockerClient, uuid, '/root', 'x.txt', 'x\n');
    const t = await podman.prepareMigration(request(uuid, s));
    await podman.abortMigration(t.migrationId);
    await expect(docker.migrate(uuid, t)).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: ['target', 'migrationId'] }] });
    expect(await listedOn(uuid)).toEqual(['docker']);
    expect((await docker.getInfo(uuid)).powerState).toBe('RUNNING');
    expect(await readFileIn(dockerClient, uuid, '/root/x.txt')).toBe('x\n');
    expect(await tracesOn(podmanClient, uuid)).toEqual([]);
    await docker.destroy(uuid);
  });

  it('a cancelled migrate is rolled back: CANCELLED, the instance RUNNING on the source, nothing on the destination', async () => {
    const uuid = uuidv4();
    const s = spec(uuid);
    await docker.spawn(s);
    const t = await podman.prepareMigration(request(uuid, s));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    await expect(docker.migrate(uuid, t, { signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await listedOn(uuid)).toEqual(['docker']);
    expect((await docker.getInfo(uuid)).powerState).toBe('RUNNING');
    await podman.abortMigration(t.migrationId);
    expect(await tracesOn(podmanClient, uuid)).toEqual([]);
    expect(await tracesOn(dockerClient, uuid)).toEqual([`container /nova-${uuid}`]);
    await docker.destroy(uuid);
  });

  it('the destination engine stopped: migrate fails, the instance stays RUNNING on the source; abort then leaves nothing there', async () => {
    const uuid = uuidv4();
    const s = spec(uuid);
    await docker.spawn(s);
    const t = await podman.prepareMigration(request(uuid, s));
    await run('bash', [PODMAN_SCRIPT, 'stop'], { timeout: 120_000 });
    try {
      await expect(docker.migrate(uuid, t)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
      expect((await docker.listInstances()).map((i) => i.uuid)).toContain(uuid);
      expect((await docker.getInfo(uuid)).powerState).toBe('RUNNING');
    } finally {
      await run('bash', [PODMAN_SCRIPT, 'start'], { timeout: 180_000 });
    }
    await podman.initHost();
    await podman.abortMigration(t.migrationId);
    expect(await listedOn(uuid)).toEqual(['docker']);
    expect(await tracesOn(podmanClient, uuid)).toEqual([]);
    await docker.destroy(uuid);
  });
});

describe('after the migration tests', () => {
  it('left no container, image or reservation of their owner on either engine', async () => {
    for (const client of [dockerClient, podmanClient]) {
      expect((await client.listContainers({ label: [`io.nova-common.owner=${OWNER}`] })).map((c) => c.Names[0])).toEqual([]);
      expect((await client.listImages({ label: [`io.nova-common.owner=${OWNER}`] })).map((i) => i.RepoTags)).toEqual([]);
      const volumes = await client.request<{ Volumes: unknown[] | null }>('GET', '/volumes', { query: { filters: JSON.stringify({ label: [`io.nova-common.owner=${OWNER}`] }) } });
      expect(volumes.body.Volumes ?? []).toEqual([]);
    }
  });
});
