import { defineDriver } from '@nova-common/core';
import { LibvirtDriverConfigSchema, type LibvirtDriverConfig } from './config.js';
import { createLibvirtDriver } from './driver/driver.js';
import { libvirtConformanceFixtures } from './fixtures/conformance-fixtures.js';

export { DRIVER_NAME } from './driver-name.js';
import { DRIVER_NAME } from './driver-name.js';
export const DRIVER_VERSION = '1.1.0';

/** The driver manifest the loader reads. */
export const manifest = defineDriver<LibvirtDriverConfig>({
  name: DRIVER_NAME,
  version: DRIVER_VERSION,
  contract: '^1.2.0',
  description: "libvirt domains (KVM/QEMU, or libvirt's test driver) through libvirt's remote protocol over libvirtd's unix socket.",
  configSchema: LibvirtDriverConfigSchema as never,
  create: (config) => createLibvirtDriver(config),
  conformanceFixtures: (config) => libvirtConformanceFixtures(config),
});
