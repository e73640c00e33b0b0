import { randomUUID } from 'node:crypto';
import type { InstanceSpec } from '../src/schemas/instance-spec.js';
import { createReferenceDriver, type ReferenceDriver } from '../src/testing.js';

const FLAVOR: InstanceSpec['flavor'] = { id: 'm1.small', name: 'm1.small', vcpus: 1, memoryMb: 512, rootGb: 1, ephemeralGb: 0, swapMb: 0, extraSpecs: {} };
const IMAGE: InstanceSpec['image'] = { id: 'cirros', diskFormat: 'qcow2', containerFormat: 'bare', minDiskGb: 0, minRamMb: 0, properties: {} };

/** Room for far more than any bench spawns. */
export const BIG_HOST = { capacity: { vcpus: 1_000_000, memoryMb: 1_000_000_000, diskGb: 1_000_000_000 } };

/** A typical spec: one interface, one volume, a little metadata. */
export function makeSpec(i: number): InstanceSpec {
  return {
    uuid: randomUUID(),
    name: `vm-${i}`,
    flavor: FLAVOR,
    image: IMAGE,
    metadata: { team: 'bench', index: String(i) },
    networkInfo: [
      {
        id: randomUUID(),
        address: 'fa:16:3e:00:00:01',
        network: { id: 'net', subnets: [] },
        type: 'bridge',
        vnicType: 'normal',
        profile: {},
        details: {},
        active: true,
      },
    ],
    blockDeviceInfo: {
      ephemerals: [],
      volumes: [{ volumeId: randomUUID(), deleteOnTermination: false, connectionInfo: { driverVolumeType: 'file', path: '/var/lib/v/1' } }],
    },
    powerOn: true,
  };
}

export function makeSpecs(n: number): InstanceSpec[] {
  return Array.from({ length: n }, (_, i) => makeSpec(i));
}

/** A reference driver already holding `n` instances; returns their uuids too. */
export async function populated(n: number, config: Parameters<typeof createReferenceDriver>[0] = BIG_HOST): Promise<{ driver: ReferenceDriver; uuids: string[] }> {
  const driver = createReferenceDriver(config);
  const uuids: string[] = [];
  for (const s of makeSpecs(n)) {
    await driver.spawn(s);
    uuids.push(s.uuid);
  }
  return { driver, uuids };
}
