export { manifest, DRIVER_NAME, DRIVER_VERSION } from './manifest.js';
export { ContainerDriver, createContainerDriver } from './driver/driver.js';
export type { ContainerDriverHooks, ContainerDriverOptions, ContainerDriverPlugs } from './driver/context.js';
export { CAPABILITY_NOTES } from './driver/capabilities.js';
export { ContainerDriverConfigSchema, type ContainerDriverConfig, type ContainerDriverConfigInput } from './config.js';
export { containerConformanceFixtures, CONFORMANCE_IMAGE } from './conformance-fixtures.js';
export { containerBackendHooks, BACKEND_SCRIPT_ENV } from './backend-hooks.js';
