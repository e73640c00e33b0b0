import { defineDriver, type DriverManifest } from '../driver/manifest.js';
import { ReferenceDriverConfigSchema, type ResolvedReferenceDriverConfig } from './config.js';
import { createReferenceDriver } from './driver.js';

/** The version of this package, which ships the reference driver. */
const PACKAGE_VERSION = '1.2.0';

/**
 * The reference driver as a loadable driver: the conformance suite's embedded default and
 * the fast in-memory backend for users' own tests.
 */
export const referenceManifest: DriverManifest<ResolvedReferenceDriverConfig> = defineDriver({
  name: '@nova-common/core/testing',
  version: PACKAGE_VERSION,
  contract: '^1.2.0',
  description: 'In-memory reference driver: follows the semantics table exactly, one or many (bare-metal-like) nodes, no backend.',
  configSchema: ReferenceDriverConfigSchema,
  create: (config) => createReferenceDriver(config),
});
