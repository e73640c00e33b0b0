import { mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConformanceFixtures, ConnectionInfo, ImageMetaInput, InstanceSpecInput } from '@nova-common/core';
import { inferDomainType, type LibvirtDriverConfig } from './config.js';

/** Image id of the tiny guest image that scripts/guest/build.sh puts in the image directory. */
export const GUEST_IMAGE_ID = 'nova-common-guest.raw';

/**
 * What a conformance run needs from this backend: on the test driver nothing (any image id
 * goes); on QEMU the real guest image file, virtio buses, and volumes as real files.
 */
export function libvirtConformanceFixtures(config: LibvirtDriverConfig, volumeRoot = '/var/lib/libvirt/images/nova-common/volumes'): ConformanceFixtures {
  if (inferDomainType(config) === 'test') return {};
  const image: ImageMetaInput = { id: GUEST_IMAGE_ID, diskFormat: 'raw', containerFormat: 'bare', properties: { hwDiskBus: 'virtio', hwVifModel: 'virtio' } };
  const made = new Set<string>();
  return {
    images: [image],
    adaptSpec: (spec: InstanceSpecInput): InstanceSpecInput => ({
      ...spec,
      image: { ...image, ...(spec.image.name !== undefined ? { name: spec.image.name } : {}) },
      // The flavor stays as generated (the suite counts inventory from it); local disks are sparse files.
      blockDeviceInfo: {
        ...(spec.blockDeviceInfo ?? {}),
        ephemerals: (spec.blockDeviceInfo?.ephemerals ?? []).map((e) => ({ ...e, diskBus: 'virtio' })),
        volumes: (spec.blockDeviceInfo?.volumes ?? []).map((v) => ({ ...v, diskBus: 'virtio', connectionInfo: { driverVolumeType: 'file', path: join(volumeRoot, `${v.volumeId}.img`) } })),
      },
    }),
    volumeConnection: async (volumeId: string): Promise<ConnectionInfo> => {
      const path = join(volumeRoot, `${volumeId}.img`);
      await mkdir(volumeRoot, { recursive: true });
      await writeFile(path, '');
      await truncate(path, 8 * 1024 * 1024);
      made.add(path);
      return { driverVolumeType: 'file', path };
    },
    cleanup: async () => {
      for (const p of made) await rm(p, { force: true });
    },
  };
}
