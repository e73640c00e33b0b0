import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver, type InstanceSpecInput, type MigrationKind, type MigrationTarget } from '@nova-common/core';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { DRIVER_NAME } from '../src/driver-name.js';
import { SOCKET, requireGuest, requireLibvirtd, waitUntil } from './helpers/backend.js';
import { boots, guestSpec, qemuConfig, waitConsole } from './helpers/qemu.js';
import { instanceDiskFormat } from '../src/images/formats.js';
import { imageInfo } from '../src/images/qemu-img.js';

/**
 * Migration between two libvirt hosts on this machine: host a (scripts/backends/libvirt.sh)
 * and host b (scripts/backends/libvirt-b.sh, its own libvirtd in its own mount namespace).
 * Live a -> b (peer-to-peer, disks copied over NBD), cold b -> a with a bigger flavor, a live
 * migration cancelled by the caller's signal, and the refusals, on real TCG guests.
 */
const B_SOCKET = '/run/nova-common/libvirt-b/libvirt-sock';
/** Host a as b's libvirtd reaches it (b has its own /run/libvirt; a's socket is bound here inside b's namespace). */
const A_FROM_B = 'qemu+unix:///system?socket=/run/nova-common/libvirt-b/host-a/libvirt-sock';
const PREFIX = 'nvmig-';
const DIR_A = '/var/lib/libvirt/images/nova-common/instances';
const DIR_B = '/var/lib/libvirt/images/nova-common/instances-b';

const rawA = createLibvirtDriver(qemuConfig(PREFIX, { migrationAddress: A_FROM_B }));
const rawB = createLibvirtDriver(qemuConfig(PREFIX, { socketPath: B_SOCKET, instancesDir: DIR_B }));
const a: GuardedDriver = guard(rawA);
const b: GuardedDriver = guard(rawB);
const made = new Set<string>();

async function requireHostB(): Promise<void> {
  const c = new LibvirtClient({ socketPath: B_SOCKET, uri: 'qemu:///system', connectTimeoutMs: 5_000, keepaliveIntervalMs: 0 });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(`host b's libvirtd is not reachable at ${B_SOCKET} (${(err as Error).message}): run scripts/backends/libvirt-b.sh start (after libvirt.sh start)`);
  } finally {
    await c.close().catch(() => undefined);
  }
}

/** Every domain named by this test's prefix on a daemon, asked of libvirtd directly. */
async function domainsOf(socketPath: string): Promise<string[]> {
  const c = new LibvirtClient({ socketPath, uri: 'qemu:///system', keepaliveIntervalMs: 0 });
  try {
    await c.connect();
    return (await c.listAllDomains(0)).map((d) => d.name).filter((n) => n.startsWith(PREFIX));
  } finally {
    await c.close().catch(() => undefined);
  }
}

async function domainXml(socketPath: string, uuid: string): Promise<string> {
  const c = new LibvirtClient({ socketPath, uri: 'qemu:///system', keepaliveIntervalMs: 0 });
  try {
    await c.connect();
    return await c.getXmlDesc(await c.lookupByUuid(uuid));
  } finally {
    await c.close().catch(() => undefined);
  }
}

async function memoryUsed(d: GuardedDriver): Promise<number> {
  return (await d.getInventory()).nodes[0]!.resources['MEMORY_MB']!.used;
}

async function listed(d: GuardedDriver, uuid: string): Promise<boolean> {
  return (await d.listInstances()).some((i) => i.uuid === uuid);
}

/** The caller's sequence: prepare on the destination, migrate on the source, finish (or abort when migrate fails). */
async function move(from: GuardedDriver, to: GuardedDriver, spec: InstanceSpecInput, kind: MigrationKind, extra: { flavor?: InstanceSpecInput['flavor']; signal?: AbortSignal } = {}): Promise<MigrationTarget> {
  const migrationId = randomUUID();
  const target = await to.prepareMigration({ migrationId, kind, sourceDriver: DRIVER_NAME, instance: spec, ...(extra.flavor ? { flavor: extra.flavor } : {}) });
  try {
    await from.migrate(spec.uuid!, target, extra.signal ? { signal: extra.signal } : undefined);
  } catch (err) {
    await to.abortMigration(migrationId);
    throw err;
  }
  await to.finishMigration(migrationId);
  return target;
}

beforeAll(async () => {
  await requireLibvirtd('qemu:///system');
  await requireHostB();
  requireGuest();
  await a.initHost();
  await b.initHost();
});

afterAll(async () => {
  for (const uuid of made) {
    await a.destroy(uuid).catch(() => undefined);
    await b.destroy(uuid).catch(() => undefined);
  }
  await a.cleanupHost();
  await b.cleanupHost();
});

describe('migration between two libvirt hosts (QEMU/TCG)', () => {
  it('declares migrate, live-migrate, resize in place and evacuate', async () => {
    const caps = (await a.getCapabilities()).capabilities;
    expect(caps['operation.migrate'].level).toBe('complete');
    expect(caps['operation.live-migrate'].level).toBe('complete');
    expect(caps['operation.resize-in-place'].level).toBe('complete');
    expect(caps['operation.evacuate'].level).toBe('complete');
  });

  it('evacuate: the guest spawned again on b; a destroys its stale copy and nothing of b\'s', async () => {
    const spec = guestSpec({ name: 'evacuee', metadata: { role: 'evacuate-test' } });
    const uuid = spec.uuid!;
    made.add(uuid);
    await a.spawn(spec);
    await b.spawn(spec); // a is "dead": the caller spawns the same uuid from its spec on b
    const filesOnB = (await readdir(join(DIR_B, uuid))).sort();
    expect(filesOnB.length).toBeGreaterThan(0);
    await a.destroy(uuid);
    expect(await domainsOf(SOCKET)).toEqual([]);
    expect(existsSync(join(DIR_A, uuid))).toBe(false);
    expect(await domainsOf(B_SOCKET)).toEqual([expect.stringContaining(`${PREFIX}${uuid}`)]);
    expect((await readdir(join(DIR_B, uuid))).sort()).toEqual(filesOnB);
    expect((await b.getInfo(uuid)).powerState).toBe('RUNNING');
    await b.destroy(uuid);
    made.delete(uuid);
    expect(existsSync(join(DIR_B, uuid))).toBe(false);
  });

  it('resizes a running guest in place: a shrink refused, then more vCPUs, memory and root; finish, abort refused', async () => {
    const spec = guestSpec({ name: 'resized', flavor: { id: 'two', name: 'two', vcpus: 1, memoryMb: 128, rootGb: 2 } });
    const uuid = spec.uuid!;
    made.add(uuid);
    await a.spawn(spec);
    await waitConsole(a, uuid, /NOVA-GUEST: READY/);
    const before = await a.getInfo(uuid);
    const usedBefore = await memoryUsed(a);
    const inPlace = (flavor: NonNullable<InstanceSpecInput['flavor']>) =>
      a.prepareMigration({ migrationId: randomUUID(), kind: 'COLD', sourceDriver: DRIVER_NAME, instance: spec, sameHost: true, flavor });

    // A shrink of the root is refused before anything moves; abort releases the reservation.
    const shrink = await inPlace({ ...spec.flavor!, rootGb: 1 });
    await expect(a.migrate(uuid, shrink)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await a.abortMigration(shrink.migrationId);
    expect(await memoryUsed(a)).toBe(usedBefore);
    expect(await boots(a, uuid)).toBe(1);

    const bigger = { id: 'bigger', name: 'bigger', vcpus: 2, memoryMb: 256, rootGb: 3 };
    const target = await inPlace(bigger);
    expect(target.sameHost).toBe(true);
    expect(await memoryUsed(a)).toBe(usedBefore + 256); // the new flavor is held beside the current one
    await expect(a.finishMigration(target.migrationId)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
    const t0 = Date.now();
    await a.migrate(uuid, target);
    console.log(`resize in place (running): ${Date.now() - t0} ms`);
    await a.finishMigration(target.migrationId);
    await a.finishMigration(target.migrationId); // idempotent
    await expect(a.abortMigration(target.migrationId)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect(await memoryUsed(a)).toBe(usedBefore - 128 + 256);
    expect(await a.getInfo(uuid)).toEqual(before);
    const xml = await domainXml(SOCKET, uuid);
    expect(xml).toMatch(/<memory unit='KiB'>262144<\/memory>/);
    expect(xml).toMatch(/<vcpu[^>]*>2<\/vcpu>/);
    expect((await imageInfo(join(DIR_A, uuid, 'disk'), instanceDiskFormat('raw'))).virtualSize).toBe(3 * 1024 ** 3);
    await waitUntil('a second boot after the resize', async () => (await boots(a, uuid)) >= 2, 90_000, 250);
    expect(await domainsOf(B_SOCKET)).toEqual([]);

    await a.destroy(uuid);
    made.delete(uuid);
  });

  it('moves a guest live a -> b, cold b -> a with a bigger flavor, survives a cancelled move, refuses what it must, and leaves nothing', async () => {
    const vif1 = randomUUID();
    const spec = guestSpec({ name: 'migrant', metadata: { role: 'migration-test' }, networkInfo: [{ id: vif1, address: 'fa:16:3e:00:00:01', network: { id: 'test-net' } }] });
    const uuid = spec.uuid!;
    made.add(uuid);
    await a.spawn(spec);
    await waitConsole(a, uuid, /NOVA-GUEST: READY/);
    const before = await a.getInfo(uuid);

    // Live a -> b.
    const usedBefore = (await b.getInventory()).nodes[0]!.resources['MEMORY_MB']!.used;
    const target = await b.prepareMigration({ migrationId: randomUUID(), kind: 'LIVE', sourceDriver: DRIVER_NAME, instance: spec });
    expect((await b.getInventory()).nodes[0]!.resources['MEMORY_MB']!.used).toBe(usedBefore + 128); // R-MIGRATE-RESERVE
    const t0 = Date.now();
    await a.migrate(uuid, target);
    console.log(`live a -> b: ${Date.now() - t0} ms`);
    await b.finishMigration(target.migrationId);
    await b.finishMigration(target.migrationId); // idempotent
    await expect(b.abortMigration(target.migrationId)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect(await listed(b, uuid)).toBe(true);
    expect(await listed(a, uuid)).toBe(false);
    const onB = await b.getInfo(uuid);
    expect(onB.powerState).toBe('RUNNING');
    expect({ ...onB, node: undefined }).toEqual({ ...before, node: undefined });
    expect((await b.getInventory()).nodes[0]!.resources['MEMORY_MB']!.used).toBe(usedBefore + 128);

    // The guest still runs there: it sees a NIC hot-plugged on b and says so on its console.
    const vif2 = randomUUID();
    await b.attachInterface(uuid, { id: vif2, address: 'fa:16:3e:00:00:02', network: { id: 'test-net' } });
    await waitConsole(b, uuid, /NET\+ \S+ mac=fa:16:3e:00:00:02/i, 60_000);
    await b.detachInterface(uuid, vif2);

    // Cold b -> a, resized to 256 MiB.
    const bigger = { ...spec.flavor!, id: 'small', name: 'small', memoryMb: 256 };
    await move(b, a, spec, 'COLD', { flavor: bigger });
    expect(await listed(a, uuid)).toBe(true);
    expect(await listed(b, uuid)).toBe(false);
    expect((await a.getInfo(uuid)).powerState).toBe('RUNNING');
    expect(await domainXml(SOCKET, uuid)).toMatch(/<memory unit='KiB'>262144<\/memory>/);
    await waitUntil('a second boot on a', async () => ((await a.getConsoleOutput(uuid)).output.match(/NOVA-GUEST: READY/g)?.length ?? 0) >= 2, 90_000, 250);
    const specNow = { ...spec, flavor: bigger };

    // A live move cancelled by the caller: the guest stays running on a, b holds nothing.
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 700);
    await expect(move(a, b, specNow, 'LIVE', { signal: ctl.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await listed(a, uuid)).toBe(true);
    expect((await a.getInfo(uuid)).powerState).toBe('RUNNING');
    expect(await listed(b, uuid)).toBe(false);
    expect(await domainsOf(B_SOCKET)).toEqual([]);
    expect((await b.getInventory()).nodes[0]!.resources['MEMORY_MB']!.used).toBe(usedBefore); // released by abort

    // Refusals, before anything moves.
    await a.powerOff(uuid, { gracefulTimeoutMs: 0 });
    await expect(move(a, b, specNow, 'LIVE')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    const other = await b.prepareMigration({ migrationId: randomUUID(), kind: 'COLD', sourceDriver: DRIVER_NAME, instance: specNow });
    await expect(a.migrate(uuid, { ...other, driver: 'some-other-driver' })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('driver') });
    await b.abortMigration(other.migrationId);
    await b.abortMigration(other.migrationId); // idempotent
    await expect(b.prepareMigration({ migrationId: randomUUID(), kind: 'COLD', sourceDriver: 'some-other-driver', instance: specNow })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await listed(a, uuid)).toBe(true);
    expect((await a.getInfo(uuid)).powerState).toBe('SHUTDOWN');

    await a.destroy(uuid);
    made.delete(uuid);
    expect(await domainsOf(SOCKET)).toEqual([]);
    expect(await domainsOf(B_SOCKET)).toEqual([]);
  }, 600_000);
});
