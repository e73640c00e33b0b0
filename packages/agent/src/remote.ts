/**
 * `@nova-common/agent/remote`: the remote driver as a driver package entry, so
 * `loadDriver('@nova-common/agent/remote', { endpoint: 'unix:///run/nova-common/agent.sock' })`
 * and the conformance CLI's `--driver @nova-common/agent/remote` work.
 */
export { remoteManifest as manifest, remoteManifest } from './client/manifest.js';
export { createRemoteDriver, type RemoteDriver, type RemoteDriverOptions } from './client/remote-driver.js';
export { RemoteDriverConfigSchema, type RemoteDriverConfig, type ResolvedRemoteDriverConfig } from './client/config.js';
