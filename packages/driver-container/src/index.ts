export { manifest, DRIVER_NAME, DRIVER_VERSION } from './manifest.js';
export { ContainerComputeDriver, createContainerDriver, CAPABILITY_NOTES, type ContainerDriverHooks } from './driver.js';
export { ContainerDriverConfigSchema, type ContainerDriverConfig, type ContainerDriverConfigInput } from './config.js';
export { EngineClient, type EngineClientOptions } from './client/engine-client.js';
export { EngineHttpError, EngineUnavailableError } from './client/errors.js';
export { buildContainerConfig, assertSafe } from './mapping/container-config.js';
export { resolveVolume, isStrictlyInside } from './mapping/mounts.js';
export { powerStateOf } from './mapping/state.js';
export { containerConformanceFixtures, CONFORMANCE_IMAGE } from './conformance-fixtures.js';
