import { defineDriver, type DriverManifest } from '@nova-common/core';
import { AGENT_VERSION } from '../version.js';
import { RemoteDriverConfigSchema, type ResolvedRemoteDriverConfig } from './config.js';
import { createRemoteDriver } from './remote-driver.js';

/**
 * The remote driver as a loadable driver: `loadDriver('@nova-common/agent/remote', { endpoint })`
 * (and `nova-conformance run --driver @nova-common/agent/remote --config remote.json`) drives
 * whatever driver an agent serves at `endpoint`.
 */
export const remoteManifest: DriverManifest<ResolvedRemoteDriverConfig> = defineDriver({
  name: '@nova-common/agent/remote',
  version: AGENT_VERSION,
  contract: '^1.0.0',
  description: 'Calls a driver served by a nova-common host agent over gRPC (unix socket, or TCP with mutual TLS).',
  configSchema: RemoteDriverConfigSchema,
  create: (config) => createRemoteDriver(config),
  // The suite holds the served driver to its own contract range, which only the agent knows.
  async conformanceFixtures(config) {
    const driver = createRemoteDriver(config);
    try {
      await driver.initHost();
      return { contract: driver.agent!.driverContract };
    } finally {
      await driver.cleanupHost();
    }
  },
});
