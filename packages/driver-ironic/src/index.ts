export { manifest } from './manifest.js';
export { IronicDriver, createIronicDriver, type IronicDriverStats } from './driver/driver.js';
export { IronicDriverConfigSchema, type IronicDriverConfig, type IronicDriverConfigInput } from './config.js';
export { ironicConformanceFixtures, bareMetalAdapter, CONFORMANCE_IMAGES, type NodeHardware } from './conformance-fixtures.js';
export { VERSION } from './version.js';
export { ironicBackendHooks, findBackendScript, type IronicBackendScript } from './backend-hooks.js';
