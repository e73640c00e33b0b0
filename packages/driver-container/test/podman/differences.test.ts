import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '@nova-common/core';
import type { EngineClient } from '../../src/client/engine-client.js';
import { CAPABILITY_NOTES } from '../../src/driver/capabilities.js';
import { spec, uuidv4 } from '../helpers.js';
import { makePodmanVolumeFile, podmanDriver, requirePodman } from './helpers.js';

// The calls podman answers differently from dockerd (src/mapping/engine-kind.ts), end to end on podman.

let client: EngineClient;
const driver = podmanDriver('podman-differences');
const events: LifecycleEvent[] = [];

beforeAll(async () => {
  client = await requirePodman();
  await driver.initHost();
  driver.subscribeEvents((e) => events.push(e));
});

afterAll(async () => {
  await driver.cleanupHost();
  await client?.close();
});

async function eventFor(uuid: string, kind: string, from: number): Promise<LifecycleEvent> {
  for (let i = 0; i < 100; i++) {
    const e = events.slice(from).find((x) => x.uuid === uuid && x.kind === kind);
    if (e) return e;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${kind} event for ${uuid}; got ${events.slice(from).map((e) => e.kind).join(',')}`);
}

describe('podman: what the driver does differently for it', () => {
  it('declares the capabilities of the connected engine: attach-interface on podman is partial, with the reason', async () => {
    const caps = await driver.getCapabilities();
    expect(caps.capabilities['operation.attach-interface']).toEqual({ level: 'partial', notes: CAPABILITY_NOTES.attachInterfacePodman });
    // Detaching from a PAUSED instance is refused by the table since 1.1: podman's detach never needs the unpause.
    expect(caps.capabilities['operation.detach-interface']).toEqual({ level: 'complete' });
    expect(caps.capabilities['operation.suspend']?.level).toBe('missing');
  });

  it('attaches an interface to a PAUSED instance, which stays PAUSED and readable; detaching from PAUSED is refused', async () => {
    const uuid = uuidv4();
    const vif = { id: uuidv4(), address: 'fa:16:3e:d1:ff:01', network: { id: `diff-${uuid}` } };
    await driver.spawn(spec(uuid));
    await driver.pause(uuid);
    await driver.attachInterface(uuid, vif);
    let info = await driver.getInfo(uuid);
    expect(info.powerState).toBe('PAUSED');
    expect(info.interfaces).toEqual([{ id: vif.id, address: vif.address }]);
    expect((await driver.listInstances()).map((i) => i.uuid)).toContain(uuid);
    await expect(driver.detachInterface(uuid, vif.id)).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'PAUSED' });
    info = await driver.getInfo(uuid);
    expect(info.powerState).toBe('PAUSED');
    expect(info.interfaces).toEqual([{ id: vif.id, address: vif.address }]);
    await driver.unpause(uuid);
    await driver.detachInterface(uuid, vif.id);
    info = await driver.getInfo(uuid);
    expect(info.powerState).toBe('RUNNING');
    expect(info.interfaces).toEqual([]);
    await driver.destroy(uuid);
    expect(await client.listNetworks({ label: [`io.nova-common.network-id=diff-${uuid}`] })).toEqual([]);
  });

  it('powers off (forced) and hard-reboots a PAUSED instance (podman refuses to stop or restart one), and reports the stop', async () => {
    const uuid = uuidv4();
    await driver.spawn(spec(uuid));
    await driver.pause(uuid);
    const mark = events.length;
    await driver.powerOff(uuid, { gracefulTimeoutMs: 0 });
    expect((await driver.getInfo(uuid)).powerState).toBe('SHUTDOWN');
    expect(await eventFor(uuid, 'STOPPED', mark)).toMatchObject({ powerState: 'SHUTDOWN' });
    await driver.powerOn(uuid);
    await driver.pause(uuid);
    await driver.reboot(uuid, 'HARD');
    expect((await driver.getInfo(uuid)).powerState).toBe('RUNNING');
    await driver.pause(uuid);
    await expect(driver.reboot(uuid, 'SOFT')).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'PAUSED' });
    expect((await driver.getInfo(uuid)).powerState).toBe('PAUSED');
    await driver.destroy(uuid);
  });

  it("labels snapshots and state images as the driver's (podman ignores commit body labels), and removes them", async () => {
    const uuid = uuidv4();
    await driver.spawn(spec(uuid));
    const snap = await driver.snapshot(uuid, { name: 'a "quoted" name\nwith a newline' });
    const labels = (await client.inspectImage(snap.imageId)).Config?.Labels ?? {};
    expect(labels['io.nova-common.kind']).toBe('snapshot');
    expect(labels['io.nova-common.owner']).toBe('podman-differences');
    expect(decodeURIComponent(labels['io.nova-common.snapshot-name']!)).toBe('a "quoted" name\nwith a newline');
    await driver.deleteSnapshot(snap.imageId);
    await expect(client.inspectImage(snap.imageId)).rejects.toMatchObject({ status: 404 });

    const volumeId = uuidv4();
    await driver.attachVolume(uuid, { volumeId, connectionInfo: { driverVolumeType: 'file', path: makePodmanVolumeFile(`diff-${volumeId}.img`) } });
    expect((await driver.getInfo(uuid)).volumes).toEqual([{ volumeId }]);
    const state = await client.inspectImage(`nova-state/${uuid}:latest`);
    expect(state.Config?.Labels?.['io.nova-common.kind']).toBe('state-image');
    await driver.destroy(uuid);
    await expect(client.inspectImage(`nova-state/${uuid}:latest`)).rejects.toMatchObject({ status: 404 });
    expect(await client.listImages({ label: [`io.nova-common.uuid=${uuid}`] })).toEqual([]);
  });

  it('keeps a network a stopped instance still uses (podman answers 500 "in use") and removes it with the last one', async () => {
    const network = { id: `diff-shared-${uuidv4().slice(0, 8)}` };
    const a = uuidv4();
    const b = uuidv4();
    await driver.spawn(spec(a, { networkInfo: [{ id: uuidv4(), address: 'fa:16:3e:00:00:1a', network }] }));
    await driver.spawn(spec(b, { networkInfo: [{ id: uuidv4(), address: 'fa:16:3e:00:00:1b', network }] }));
    await driver.powerOff(b, { gracefulTimeoutMs: 0 });
    await driver.destroy(a);
    await driver.powerOn(b);
    expect((await driver.getInfo(b)).interfaces).toHaveLength(1);
    await driver.destroy(b);
    expect(await client.listNetworks({ label: [`io.nova-common.network-id=${network.id}`] })).toEqual([]);
  });
});
