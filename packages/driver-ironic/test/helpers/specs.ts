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

/** The test nodes' hardware (scripts/backends/ironic/enroll.py). */
export const NODE_HARDWARE = { cpus: 8, memoryMb: 16384, localGb: 100 };

/**
 * Make a generated spec deployable here, as an operator would: a flavor that fits the nodes'
 * hardware becomes Nova's bare-metal flavor for their class (resources:CUSTOM_BAREMETAL=1,
 * VCPU/MEMORY_MB/DISK_GB=0); a bigger one stays as it is, so it fits no node. The image becomes
 * one the backend has.
 */
export function adaptSpec(s: InstanceSpecInput): InstanceSpecInput {
  const imageIndex = Math.abs(hash(String(s.image?.id ?? ''))) % IMAGES.length;
  const f = s.flavor;
  const fitsHardware =
    f.vcpus <= NODE_HARDWARE.cpus && f.memoryMb <= NODE_HARDWARE.memoryMb && f.rootGb + (f.ephemeralGb ?? 0) <= NODE_HARDWARE.localGb;
  return {
    ...s,
    flavor: fitsHardware ? { ...f, extraSpecs: { ...(f.extraSpecs ?? {}), ...BAREMETAL_EXTRA_SPECS } } : f,
    image: { ...IMAGES[imageIndex]! },
    blockDeviceInfo: { ...(s.blockDeviceInfo ?? {}), volumes: [] },
  };
}

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}
