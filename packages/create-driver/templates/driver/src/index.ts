export { manifest, ConfigSchema, type Config } from './manifest.js';
export { MemoryDriver } from './driver.js';
