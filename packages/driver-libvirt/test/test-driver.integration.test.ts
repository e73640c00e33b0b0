import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { guard, type GuardedDriver, type InstanceSpecInput, type LifecycleEvent } from '@nova-common/core';
import { createLibvirtDriver, type LibvirtDriver } from '../src/driver/driver.js';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { SOCKET, requireLibvirtd, waitUntil } from './helpers/backend.js';

/**
 * Integration tests against libvirt's test driver served by the real libvirtd, through the
 * guard (the only supported way to call a driver).
 */

function spec(over: Partial<InstanceSpecInput> = {}): InstanceSpecInput {
  return {
    uuid: randomUUID(),
    name: 'it-instance',
    flavor: { id: 'f1', name: 'm1.tiny', vcpus: 1, memoryMb: 256, rootGb: 1 },
    image: { id: 'cirros', diskFormat: 'qcow2', containerFormat: 'bare' },
    ...over,
  };
}

let unguarded: LibvirtDriver;
let driver: GuardedDriver;
let raw: LibvirtClient;
const events: LifecycleEvent[] = [];

beforeAll(async () => {
  await requireLibvirtd('test:///default');
  // A second connection keeps the test driver's state alive and plays "someone else".
  raw = new LibvirtClient({ socketPath: SOCKET, uri: 'test:///default' });
  await raw.connect();
  unguarded = createLibvirtDriver({ uri: 'test:///default', socketPath: SOCKET });
  // Capabilities are not enforced by the guard here, so the driver's own UNSUPPORTED answers are what is tested.
  driver = guard(unguarded, { enforceCapabilities: false });
  await driver.initHost();
  driver.subscribeEvents((e) => events.push(e));
});

afterAll(async () => {
  for (const i of (await driver?.listInstances().catch(() => [])) ?? []) await driver.destroy(i.uuid);
  await driver?.cleanupHost();
  await raw?.close();
});

describe('capabilities on the test driver', () => {
  it('declares device hot-plug and the console log missing, and refuses them with UNSUPPORTED', async () => {
    const caps = await driver.getCapabilities();
    for (const id of ['operation.attach-volume', 'operation.detach-volume', 'operation.attach-interface', 'operation.detach-interface', 'operation.extend-volume', 'console.serial.log'] as const) {
      expect(caps.capabilities[id]?.level).toBe('missing');
    }
    expect(caps.capabilities['operation.suspend']?.level).toBe('complete');
    expect(caps.capabilities['event.lifecycle']?.level).toBe('complete');
    expect(caps.volumeTransports).toEqual(['file', 'block']);
    const s = spec();
    await driver.spawn(s);
    await expect(driver.attachVolume(s.uuid, { volumeId: randomUUID(), connectionInfo: { driverVolumeType: 'file', path: '/tmp/x' } })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(driver.detachInterface(s.uuid, randomUUID())).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(driver.getConsoleOutput(s.uuid)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await driver.destroy(s.uuid);
  });
});

describe('ownership', () => {
  it('never lists or destroys domains it did not create', async () => {
    const builtin = await raw.lookupByName('test');
    const builtinUuid = [...builtin.uuid].map((b) => b.toString(16).padStart(2, '0')).join('').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
    // A foreign domain that even uses this driver's naming scheme, but has no ownership marker.
    const foreignUuid = randomUUID();
    const foreign = await raw.defineXml(`<domain type='test'><name>nova-${foreignUuid}</name><uuid>${foreignUuid}</uuid><memory>1024</memory><os><type>hvm</type></os></domain>`);
    try {
      const listed = (await driver.listInstances()).map((i) => i.uuid);
      expect(listed).not.toContain(builtinUuid);
      expect(listed).not.toContain(foreignUuid);
      await expect(driver.getInfo(foreignUuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
      await driver.destroy(foreignUuid);
      await expect(driver.pause(foreignUuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
      expect((await raw.getState(builtin)).state).toBe(1);
      expect((await raw.lookupByUuid(foreignUuid)).name).toBe(`nova-${foreignUuid}`);
      // Its uuid is taken on the backend: spawn refuses instead of redefining it.
      await expect(driver.spawn(spec({ uuid: foreignUuid }))).rejects.toMatchObject({ code: 'INSTANCE_EXISTS' });
    } finally {
      await raw.undefine(foreign);
    }
  });
});

describe('bad input', () => {
  it('refuses what libvirt cannot do with INVALID_INPUT naming the field, before any libvirt call', async () => {
    const calls = vi.spyOn(unguarded.libvirt.connection, 'call');
    try {
      const iscsi = { volumeId: randomUUID(), connectionInfo: { driverVolumeType: 'iscsi', targetPortal: '127.0.0.1:3260', targetIqn: 'iqn.2026-01.test:x', targetLun: 0 } };
      const err = await driver.spawn(spec({ blockDeviceInfo: { volumes: [iscsi] } } as Partial<InstanceSpecInput>)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'INVALID_INPUT' });
      expect((err as { issues: { path: unknown[] }[] }).issues.map((i) => i.path)).toEqual([['spec', 'blockDeviceInfo', 'volumes', 0, 'connectionInfo', 'driverVolumeType']]);
      // Input the contract's schemas refuse never reaches the driver: the guard answers.
      await expect(driver.spawn({ ...spec(), uuid: 'not-a-uuid' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(driver.powerOff(randomUUID(), { gracefulTimeoutMs: -1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      expect(calls).not.toHaveBeenCalled();
    } finally {
      calls.mockRestore();
    }
  });
});

describe('lifecycle through libvirtd', () => {
  it('follows the semantics table, absorbing the test driver differences', async () => {
    const s = spec({ powerOn: false });
    await driver.spawn(s);
    const state = async () => (await driver.getInfo(s.uuid)).powerState;
    expect(await state()).toBe('SHUTDOWN');
    await driver.powerOff(s.uuid); // no-op in SHUTDOWN (libvirt itself would refuse destroy)
    await expect(driver.pause(s.uuid)).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'SHUTDOWN' });
    await driver.powerOn(s.uuid);
    await driver.powerOn(s.uuid); // no-op in RUNNING
    expect(await state()).toBe('RUNNING');
    await driver.unpause(s.uuid); // no-op in RUNNING (the test driver says INTERNAL_ERROR)
    await driver.pause(s.uuid);
    await driver.pause(s.uuid); // no-op in PAUSED
    expect(await state()).toBe('PAUSED');
    // Since 1.1 a paused guest cannot be asked to reboot: INVALID_STATE; a hard reboot says what happens.
    await expect(driver.reboot(s.uuid, 'SOFT')).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'PAUSED' });
    await driver.reboot(s.uuid, 'HARD'); // PAUSED -> RUNNING
    expect(await state()).toBe('RUNNING');
    await driver.suspend(s.uuid);
    await driver.suspend(s.uuid);
    expect(await state()).toBe('SUSPENDED');
    await driver.resume(s.uuid); // restores the managed save
    expect(await state()).toBe('RUNNING');
    await driver.suspend(s.uuid);
    await driver.reboot(s.uuid, 'HARD'); // SUSPENDED -> RUNNING, drops the save image
    expect(await state()).toBe('RUNNING');
    await driver.rescue(s.uuid, {});
    expect(await driver.getInfo(s.uuid)).toMatchObject({ powerState: 'RUNNING', mode: 'rescue' });
    await expect(driver.suspend(s.uuid)).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'RESCUE' });
    await driver.unrescue(s.uuid);
    expect(await driver.getInfo(s.uuid)).toMatchObject({ powerState: 'RUNNING', mode: 'normal' });
    await driver.rebuild(s.uuid, { image: { id: 'other', diskFormat: 'raw', containerFormat: 'bare' }, metadata: { rebuilt: 'yes' } });
    expect(await driver.getInfo(s.uuid)).toMatchObject({ powerState: 'RUNNING', metadata: { rebuilt: 'yes' } });
    const snap = await driver.snapshot(s.uuid, { name: 'snap one' });
    expect(snap).toMatchObject({ name: 'snap one', containerFormat: 'bare' });
    await driver.deleteSnapshot(snap.imageId);
    await driver.deleteSnapshot(snap.imageId);
    await driver.destroy(s.uuid);
    await driver.destroy(s.uuid);
    await expect(driver.getInfo(s.uuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
    await expect(raw.lookupByUuid(s.uuid)).rejects.toMatchObject({ code: 42 });
  });

  it('delivers lifecycle events for its own instances', async () => {
    const s = spec();
    events.length = 0;
    await driver.spawn(s);
    await driver.pause(s.uuid);
    await driver.unpause(s.uuid);
    await driver.suspend(s.uuid);
    await driver.resume(s.uuid);
    await driver.powerOff(s.uuid);
    const bound = (await driver.getCapabilities()).eventualConsistency.eventDeliveryMs;
    const mine = await waitUntil('six events', async () => {
      const m = events.filter((e) => e.uuid === s.uuid);
      return m.length >= 6 ? m : undefined;
    }, bound);
    expect(mine.map((e) => `${e.kind}/${e.powerState}`)).toEqual([
      'STARTED/RUNNING',
      'PAUSED/PAUSED',
      'RESUMED/RUNNING',
      'SUSPENDED/SUSPENDED',
      'STARTED/RUNNING',
      'STOPPED/SHUTDOWN',
    ]);
    // A domain someone else runs on the same daemon produces no events here.
    const other = randomUUID();
    const d = await raw.defineXml(`<domain type='test'><name>other-${other}</name><uuid>${other}</uuid><memory>1024</memory><os><type>hvm</type></os></domain>`);
    await raw.create(d);
    await raw.destroy(d);
    await raw.undefine(d);
    await driver.destroy(s.uuid);
    await new Promise((r) => setTimeout(r, 200));
    expect(events.some((e) => e.uuid === other)).toBe(false);
  });

  it('reports inventory from the node minus what its instances use', async () => {
    const node = await raw.nodeGetInfo();
    const before = (await driver.getInventory()).nodes[0]!.resources;
    expect(before['VCPU']!.total).toBe(node.cpus);
    expect(before['MEMORY_MB']!.total).toBe(Number(node.memoryKib / 1024n));
    const s = spec({ flavor: { id: 'f2', name: 'f2', vcpus: 3, memoryMb: 300, rootGb: 2, ephemeralGb: 1, swapMb: 1025 } });
    await driver.spawn(s);
    const after = (await driver.getInventory()).nodes[0]!.resources;
    expect(after['VCPU']!.used - before['VCPU']!.used).toBe(3);
    expect(after['MEMORY_MB']!.used - before['MEMORY_MB']!.used).toBe(300);
    expect(after['DISK_GB']!.used - before['DISK_GB']!.used).toBe(2 + 1 + 2);
    // Placement's rule: a flavor that does not fit what is left (or asks for a class this host
    // does not have) is refused, and nothing is left behind.
    const tooBig = spec({ flavor: { id: 'big', name: 'big', vcpus: 1, memoryMb: after['MEMORY_MB']!.total, rootGb: 1 } });
    await expect(driver.spawn(tooBig)).rejects.toMatchObject({ code: 'INSUFFICIENT_RESOURCES' });
    const custom = spec({ flavor: { id: 'c', name: 'c', vcpus: 1, memoryMb: 64, rootGb: 1, extraSpecs: { 'resources:CUSTOM_MAGIC': '1' } } });
    await expect(driver.spawn(custom)).rejects.toMatchObject({ code: 'INSUFFICIENT_RESOURCES' });
    await expect(raw.lookupByUuid(tooBig.uuid)).rejects.toMatchObject({ code: 42 });
    // The table comes first: a uuid in use is INSTANCE_EXISTS, however big the flavor.
    await expect(driver.spawn({ ...tooBig, uuid: s.uuid })).rejects.toMatchObject({ code: 'INSTANCE_EXISTS' });
    await driver.destroy(s.uuid);
    const released = (await driver.getInventory()).nodes[0]!.resources;
    expect(released['VCPU']!.used).toBe(before['VCPU']!.used);
  });
});

describe('names and metadata through libvirt (property)', () => {
  const text = fc.string({ unit: fc.constantFrom('<', '>', '&', '"', "'", ']]>', '\r', '\n', '\t', '\u0001', '\ud800', 'é', '😀', ' ', 'x', '&#65;'), maxLength: 20 });
  it('any name and metadata come back unchanged from the live domain', async () => {
    await fc.assert(
      fc.asyncProperty(text.filter((s) => s.length > 0), fc.dictionary(text.filter((s) => s.length > 0), text, { maxKeys: 4 }), async (name, metadata) => {
        const s = spec({ name, metadata });
        await driver.spawn(s);
        try {
          const info = await driver.getInfo(s.uuid);
          expect(info.name).toBe(name);
          expect(info.metadata).toEqual(metadata);
          const listed = (await driver.listInstances()).find((i) => i.uuid === s.uuid);
          expect(listed).toMatchObject({ name, metadata });
        } finally {
          await driver.destroy(s.uuid);
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('reconnect', () => {
  it('reconnects after the connection drops and keeps delivering events', async () => {
    const conn = unguarded.libvirt.connection as unknown as { socket?: { destroy(): void } };
    conn.socket?.destroy();
    expect(unguarded.libvirt.connection.isOpen).toBe(false);
    await waitUntil('reconnect', async () => unguarded.libvirt.connection.isOpen, 5_000);
    const s = spec();
    events.length = 0;
    await driver.spawn(s);
    await waitUntil('a STARTED event after reconnect', async () => events.some((e) => e.uuid === s.uuid && e.kind === 'STARTED'), 2_000);
    await driver.destroy(s.uuid);
  });
});

describe('spawn is atomic', () => {
  it('a spawn that fails once its domain runs leaves nothing behind', async () => {
    const failing = guard(
      createLibvirtDriver({ uri: 'test:///default', socketPath: SOCKET }, { midSpawn: async () => Promise.reject(new Error('injected failure')) }),
    );
    await failing.initHost();
    try {
      const s = spec();
      await expect(failing.spawn(s)).rejects.toMatchObject({ code: 'INTERNAL' });
      await expect(raw.lookupByUuid(s.uuid)).rejects.toMatchObject({ code: 42 });
      expect((await driver.listInstances()).map((i) => i.uuid)).not.toContain(s.uuid);
    } finally {
      await failing.cleanupHost();
    }
  });

  it('the half-spawned domain of a driver that died mid-spawn is never listed, and the next driver session sweeps it', async () => {
    let die!: () => void;
    let reached!: () => void;
    const midSpawn = new Promise<void>((resolve) => (reached = resolve));
    const dying = createLibvirtDriver(
      { uri: 'test:///default', socketPath: SOCKET },
      {
        midSpawn: () => {
          reached();
          return new Promise<void>((_resolve, reject) => (die = () => reject(new Error('the driver died'))));
        },
      },
    );
    await dying.initHost();
    const usedBefore = (await driver.getInventory()).nodes[0]!.resources['MEMORY_MB']!.used;
    const s = spec();
    const pending = guard(dying).spawn(s).catch((e: unknown) => e);
    await midSpawn;
    // The domain runs (transient): not an instance until the spawn makes it persistent.
    expect((await raw.lookupByUuid(s.uuid)).name).toMatch(new RegExp(`^nova-${s.uuid}-[0-9a-f]{8}$`));
    expect((await driver.listInstances()).map((i) => i.uuid)).not.toContain(s.uuid);
    expect((await driver.getInventory()).nodes[0]!.resources['MEMORY_MB']!.used).toBe(usedBefore);
    // Another session whose staleSpawnMs has passed for every leftover sweeps it when it starts.
    const next = createLibvirtDriver({ uri: 'test:///default', socketPath: SOCKET, staleSpawnMs: 0 });
    await next.initHost();
    try {
      await expect(raw.lookupByUuid(s.uuid)).rejects.toMatchObject({ code: 42 });
    } finally {
      die();
      await next.cleanupHost();
    }
    expect(await pending).toMatchObject({ code: 'INTERNAL' });
    await expect(raw.lookupByUuid(s.uuid)).rejects.toMatchObject({ code: 42 });
    await dying.cleanupHost();
  });
});

describe('libvirt calls per operation', () => {
  it('spawn makes 2 calls, getInfo 2, destroy 3 (what the README states and the bench counts)', async () => {
    // Its own prefix, so no other test's domains are named like its own (each would cost one metadata read, once).
    const counted = createLibvirtDriver({ uri: 'test:///default', socketPath: SOCKET, namePrefix: 'count-' });
    const g = guard(counted);
    await g.initHost();
    try {
      const s = spec();
      const calls = async (f: () => Promise<unknown>): Promise<number> => {
        const before = counted.libvirt.callCount;
        await f();
        return counted.libvirt.callCount - before;
      };
      // spawn: DOMAIN_CREATE_XML, DOMAIN_DEFINE_XML_FLAGS (placement needs no call)
      expect(await calls(() => g.spawn(s))).toBe(2);
      // A uuid in use: libvirt refuses the first call itself.
      let refused: unknown;
      expect(await calls(() => g.spawn(spec({ uuid: s.uuid })).catch((e: unknown) => (refused = e)))).toBe(1);
      expect(refused).toMatchObject({ code: 'INSTANCE_EXISTS' });
      // getInfo: DOMAIN_GET_STATE and DOMAIN_GET_XML_DESC (in flight at once)
      expect(await calls(() => g.getInfo(s.uuid))).toBe(2);
      // destroy: DOMAIN_GET_XML_DESC, then DOMAIN_DESTROY_FLAGS and DOMAIN_UNDEFINE_FLAGS (in flight at once)
      expect(await calls(() => g.destroy(s.uuid))).toBe(3);
      await expect(raw.lookupByUuid(s.uuid)).rejects.toMatchObject({ code: 42 });
    } finally {
      await g.cleanupHost();
    }
  });
});
