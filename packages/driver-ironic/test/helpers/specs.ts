/** Specs for bare-metal instances in Nova's style: one unit of the node's custom class, no VCPU/RAM/disk. */
import type { FlavorInput, ImageMetaInput, InstanceSpec, InstanceSpecInput } from '@nova-common/core';
import { InstanceSpecSchema } from '@nova-common/core';
import { CONFORMANCE_IMAGES, bareMetalAdapter } from '../../src/conformance-fixtures.js';

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

/** Images the backend script creates under /tmp/nova-common/ironic/images (fake hardware never reads them): the conformance images. */
export const IMAGES: ImageMetaInput[] = CONFORMANCE_IMAGES;

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

/** Generated specs made deployable on the test nodes (the same adapter the manifest's fixtures build from Ironic). */
export const adaptSpec = bareMetalAdapter('baremetal', NODE_HARDWARE, IMAGES);
