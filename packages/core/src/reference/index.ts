export {
  REFERENCE_NODE_RESOURCE_CLASS,
  ReferenceCapacitySchema,
  ReferenceDriverConfigSchema,
  type ReferenceCapacity,
  type ReferenceDriverConfig,
  type ResolvedReferenceDriverConfig,
} from './config.js';
export { createReferenceDriver, ReferenceComputeDriver, type ReferenceDriver } from './driver.js';
export { createReferenceBackend, type ReferenceBackend } from './backend.js';
export { referenceManifest, referenceManifest as manifest } from './manifest.js';
