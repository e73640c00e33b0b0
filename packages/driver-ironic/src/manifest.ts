import { defineDriver } from '@nova-common/core';
import { IronicDriverConfigSchema, type IronicDriverConfig } from './config.js';
import { IronicDriver } from './driver/driver.js';
import { VERSION } from './version.js';
import { ironicConformanceFixtures } from './conformance-fixtures.js';

export const manifest = defineDriver<IronicDriverConfig>({
  name: '@nova-common/driver-ironic',
  version: VERSION,
  contract: '^1.2.0',
  description: 'Bare metal through OpenStack Ironic: each Ironic node is a node of the host; spawn deploys it as Nova does.',
  configSchema: IronicDriverConfigSchema as unknown as import('zod').ZodType<IronicDriverConfig>,
  create: (config) => new IronicDriver(config),
  conformanceFixtures: (config) => ironicConformanceFixtures(config),
});
