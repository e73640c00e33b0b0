import { defineDriver } from '@nova-common/core';
import { ContainerDriverConfigSchema, type ContainerDriverConfig } from './config.js';
import { createContainerDriver } from './driver/driver.js';
import { containerConformanceFixtures } from './conformance-fixtures.js';
import { DRIVER_NAME } from './driver-name.js';

export { DRIVER_NAME };
export const DRIVER_VERSION = '1.1.0';

/** The manifest the loader reads: identity, contract range, configuration schema and factory. */
export const manifest = defineDriver<ContainerDriverConfig>({
  name: DRIVER_NAME,
  version: DRIVER_VERSION,
  // 1.2.0: the migration operations (prepareMigration, migrate, finishMigration, abortMigration).
  contract: '^1.2.0',
  description: 'Runs instances as containers through the Docker Engine API (dockerd, or podman\'s compatible service) over its unix socket.',
  configSchema: ContainerDriverConfigSchema,
  create: (config) => createContainerDriver(config),
  conformanceFixtures: (config) => containerConformanceFixtures(config),
});
