/** Specs for bare-metal instances in Nova's style: one unit of the node's custom class, no VCPU/RAM/disk. */
import type { FlavorInput, ImageMetaInput, InstanceSpec, InstanceSpecInput } from '@nova-common/core';
import { InstanceSpecSchema } from '@nova-common/core';

export const BAREMETAL_EXTRA_SPECS = {
  'resources:CUSTOM_BAREMETAL': '1',
  'resources:VCPU': '0',
  'resources:MEMORY_MB': '0',
  'resources:DISK_GB': '0',
} as const;

export const BAREMETAL_FLAVOR: FlavorInput = {
  id: 'bm.small',
  name: 'bm.small',
  vcpus: 8,
  memoryMb: 16384,
  rootGb: 100,
  extraSpecs: { ...BAREMETAL_EXTRA_SPECS },
};

/** Images the backend script creates under /tmp/nova-common/ironic/images (fake hardware never reads them). */
export const IMAGES: ImageMetaInput[] = ['nc-image-1', 'nc-image-2', 'nc-image-3'].map((id) => ({
  id,
  name: id,
  diskFormat: 'raw',
  containerFormat: 'bare',
}));

export const IMAGE_SOURCE_TEMPLATE = 'file:///tmp/nova-common/ironic/images/{id}.img';

export function spec(over: Partial<InstanceSpecInput> & { uuid: string }): InstanceSpec {
  return InstanceSpecSchema.parse({
    name: `test-${over.uuid.slice(0, 8)}`,
    flavor: BAREMETAL_FLAVOR,
    image: IMAGES[0],
    ...over,
  });
}

/** Make a generated spec deployable here: a bare-metal flavor and one of the backend's images. */
export function adaptSpec(s: InstanceSpecInput): InstanceSpecInput {
  const imageIndex = Math.abs(hash(String(s.image?.id ?? ''))) % IMAGES.length;
  return {
    ...s,
    flavor: { ...s.flavor, extraSpecs: { ...(s.flavor.extraSpecs ?? {}), ...BAREMETAL_EXTRA_SPECS } },
    image: { ...IMAGES[imageIndex]! },
    blockDeviceInfo: { ...(s.blockDeviceInfo ?? {}), volumes: [] },
  };
}

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}
