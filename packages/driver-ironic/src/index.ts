export { manifest } from './manifest.js';
export { IronicDriver, type IronicDriverStats } from './driver.js';
export { IronicDriverConfigSchema, type IronicDriverConfig, type IronicDriverConfigInput } from './config.js';
export { VERSION } from './version.js';

import { IronicDriverConfigSchema, type IronicDriverConfigInput } from './config.js';
import { IronicDriver } from './driver.js';
import { DriverError } from '@nova-common/core';

/**
 * Create an unconnected Ironic driver (call initHost next). The configuration is validated;
 * a bad one throws INVALID_INPUT naming each field under `config`.
 */
export function createIronicDriver(config: IronicDriverConfigInput = {}): IronicDriver {
  const parsed = IronicDriverConfigSchema.safeParse(config);
  if (!parsed.success) {
    throw new DriverError('INVALID_INPUT', {
      op: 'createIronicDriver',
      issues: parsed.error.issues.map((i) => ({ path: ['config', ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: i.message })),
    });
  }
  return new IronicDriver(parsed.data);
}
export { ironicConformanceFixtures, bareMetalAdapter, CONFORMANCE_IMAGES, type NodeHardware } from './conformance-fixtures.js';
