import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { guard } from './guard.js';
import { createReferenceDriver } from '../reference/driver.js';

const upper = (): string => randomUUID().toUpperCase();

describe('guard: one instance, one device, whatever the case of its uuid', () => {
  it('hands the driver lower-case instance, volume and interface ids, and finds them in any case', async () => {
    const g = guard(createReferenceDriver());
    const [uuid, volumeId, vifId, lateVolume, lateVif] = [upper(), upper(), upper(), upper(), upper()];
    await g.spawn({
      uuid,
      name: 'case',
      flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 1 },
      image: { id: 'i', diskFormat: 'raw', containerFormat: 'bare' },
      networkInfo: [{ id: vifId, address: 'fa:16:3e:00:00:01', network: { id: 'n', subnets: [] }, type: 'bridge' }],
      blockDeviceInfo: { volumes: [{ volumeId, connectionInfo: { driverVolumeType: 'file', path: '/var/lib/v' } }] },
    });
    await g.attachVolume(uuid.toLowerCase(), { volumeId: lateVolume, connectionInfo: { driverVolumeType: 'file', path: '/var/lib/w' } });
    await g.attachInterface(uuid, { id: lateVif, address: 'fa:16:3e:00:00:02', network: { id: 'n', subnets: [] }, type: 'bridge' });
    const info = await g.getInfo(uuid);
    expect(info.uuid).toBe(uuid.toLowerCase());
    expect(info.volumes.map((v) => v.volumeId).sort()).toEqual([volumeId, lateVolume].map((v) => v.toLowerCase()).sort());
    expect(info.interfaces.map((v) => v.id).sort()).toEqual([vifId, lateVif].map((v) => v.toLowerCase()).sort());
    await g.detachVolume(uuid, lateVolume.toLowerCase());
    await g.detachInterface(uuid.toLowerCase(), lateVif);
    expect((await g.listInstances()).map((s) => s.uuid)).toEqual([uuid.toLowerCase()]);
    await g.destroy(uuid);
    expect(await g.listInstances()).toEqual([]);
  });
});
