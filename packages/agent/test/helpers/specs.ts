import { randomUUID } from 'node:crypto';
import type { InstanceSpecInput, VifInput, VolumeAttachmentInput } from '@nova-common/core';

/** A small valid spec with a fresh uuid. */
export function spec(overrides: Partial<InstanceSpecInput> = {}): InstanceSpecInput {
  return {
    uuid: randomUUID(),
    name: 'vm-1',
    flavor: { id: 'm1.small', name: 'm1.small', vcpus: 1, memoryMb: 512, rootGb: 1 },
    image: { id: 'cirros', diskFormat: 'qcow2', containerFormat: 'bare' },
    metadata: { team: 'blue' },
    ...overrides,
  };
}

export function volume(volumeId = randomUUID()): VolumeAttachmentInput {
  return { volumeId, deviceName: 'vdb', connectionInfo: { driverVolumeType: 'iscsi', targetPortal: '10.0.0.1:3260', targetIqn: 'iqn.2010-10.org.openstack:vol', targetLun: 1 } };
}

export function vif(id = randomUUID()): VifInput {
  return { id, address: 'fa:16:3e:00:00:01', network: { id: 'net-1', subnets: [{ cidr: '10.0.0.0/24', ips: [{ address: '10.0.0.5' }] }] } };
}
