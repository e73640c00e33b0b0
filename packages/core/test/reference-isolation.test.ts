import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createReferenceDriver } from '../src/testing.js';
import { guard } from '../src/guard/guard.js';
import { IMAGE_2, collectEvents, spec, vif, volume } from './reference-helpers.js';

// Nothing a caller holds is shared with the driver's state: the guard hands the driver
// fresh parsed copies on the way in, and the driver copies on the way out.
describe('reference driver isolates its state from callers', () => {
  it('mutating the spec after spawn changes nothing', async () => {
    const driver = guard(createReferenceDriver());
    const v = volume(randomUUID(), 4);
    const n = vif();
    const s = spec({ name: 'orig', metadata: { k: 'v' }, networkInfo: [n], blockDeviceInfo: { ephemerals: [], volumes: [v] } });
    await driver.spawn(s);
    const before = await driver.getInfo(s.uuid);
    s.name = 'changed';
    s.metadata.k = 'changed';
    s.metadata.extra = 'x';
    s.flavor.vcpus = 99;
    s.networkInfo.pop();
    s.blockDeviceInfo.volumes[0]!.sizeGb = 400;
    s.blockDeviceInfo.volumes.push(volume());
    n.address = 'fa:16:3e:ff:ff:ff';
    expect(await driver.getInfo(s.uuid)).toEqual(before);
    expect((await driver.getInventory()).nodes[0]!.resources.VCPU!.used).toBe(1);
  });

  it('mutating getInfo, listInstances, getInventory, listNodes and capabilities results changes nothing', async () => {
    const driver = createReferenceDriver({ nodes: 2 });
    const s = spec({ metadata: { k: 'v' }, networkInfo: [vif()], blockDeviceInfo: { ephemerals: [], volumes: [volume()] } });
    await driver.spawn(s);
    const info = await driver.getInfo(s.uuid);
    const snapshotOfInfo = structuredClone(info);
    info.name = 'x';
    info.metadata.k = 'x';
    info.volumes.length = 0;
    info.interfaces.push({ id: randomUUID(), address: 'fa:16:3e:00:00:09' });
    info.powerState = 'CRASHED';
    expect(await driver.getInfo(s.uuid)).toEqual(snapshotOfInfo);

    const list = await driver.listInstances();
    list[0]!.metadata.k = 'y';
    list[0]!.name = 'y';
    list.length = 0;
    expect(await driver.listInstances()).toEqual([{ uuid: s.uuid, name: s.name, node: snapshotOfInfo.node, metadata: { k: 'v' } }]);

    const inv = await driver.getInventory();
    const invCopy = structuredClone(inv);
    inv.nodes[0]!.resources.VCPU!.used = 1000;
    inv.nodes[0]!.traits.push('CUSTOM_X');
    inv.nodes.pop();
    expect(await driver.getInventory()).toEqual(invCopy);

    const nodes = await driver.listNodes();
    const nodesCopy = structuredClone(nodes);
    nodes[0]!.available = !nodes[0]!.available;
    expect(await driver.listNodes()).toEqual(nodesCopy);

    const caps = await driver.getCapabilities();
    caps.capabilities['operation.pause'] = { level: 'missing' };
    caps.eventualConsistency.eventDeliveryMs = 5;
    expect((await driver.getCapabilities()).capabilities['operation.pause']).toEqual({ level: 'complete' });
    expect((await driver.getCapabilities()).eventualConsistency.eventDeliveryMs).toBe(0);
    await driver.pause(s.uuid);
  });

  it('mutating device arguments after attach, rebuild metadata, snapshot results and events changes nothing', async () => {
    const reference = createReferenceDriver();
    const driver = guard(reference);
    const s = spec();
    await driver.spawn(s);
    const v = volume(randomUUID(), 2);
    const n = vif();
    await driver.attachVolume(s.uuid, v);
    await driver.attachInterface(s.uuid, n);
    const metadata = { a: '1' };
    await driver.rebuild(s.uuid, { image: { ...IMAGE_2, properties: {} }, metadata, preserveEphemeral: false });
    const before = await driver.getInfo(s.uuid);
    v.sizeGb = 9;
    v.deviceName = 'vdz';
    n.address = 'fa:16:3e:aa:aa:aa';
    metadata.a = 'changed';
    expect(await driver.getInfo(s.uuid)).toEqual(before);

    const snap = await driver.snapshot(s.uuid, { name: 'n' });
    snap.name = 'changed';
    expect((await reference.listSnapshots())[0]!.name).toBe('n');
    (await reference.listSnapshots())[0]!.name = 'changed';
    expect((await reference.listSnapshots())[0]!.name).toBe('n');

    const a = collectEvents(reference);
    const b = collectEvents(reference);
    reference.subscribeEvents((e) => {
      e.kind = 'CRASHED';
      e.uuid = 'x';
    });
    const c = collectEvents(reference);
    await driver.pause(s.uuid);
    expect(a.events[0]).toMatchObject({ uuid: s.uuid, kind: 'PAUSED' });
    expect(b.events[0]).toMatchObject({ uuid: s.uuid, kind: 'PAUSED' });
    expect(c.events[0]).toMatchObject({ uuid: s.uuid, kind: 'PAUSED' });
  });
});
