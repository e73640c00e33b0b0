import type { BackendWitness, WitnessMachine } from '@nova-common/core';
import { EngineClient } from './client/engine-client.js';
import type { ContainerDriverConfig } from './config.js';
import { labelKeys } from './mapping/labels.js';

/**
 * The engine as the conformance suite's witness sees it: every container carrying this
 * configuration's owner label (`<labelPrefix>.owner=<ownerId>`), of any phase (an instance, one
 * being spawned or replaced), by the uuid label it carries, read over a connection of its own,
 * never through the driver. Running while the engine says running or paused.
 */
export function containerWitness(config: ContainerDriverConfig): BackendWitness {
  const { socketPath, apiVersion, connectTimeoutMs, requestTimeoutMs, longRequestTimeoutMs } = config;
  let client: EngineClient | undefined;
  const keys = labelKeys({ namePrefix: config.namePrefix, labelPrefix: config.labelPrefix, ownerId: config.ownerId });
  return {
    async listMachines(): Promise<WitnessMachine[]> {
      client ??= new EngineClient({ socketPath, apiVersion, connectTimeoutMs, requestTimeoutMs, longRequestTimeoutMs });
      const containers = await client.listContainers({ label: [`${keys.owner}=${config.ownerId}`] });
      const machines: WitnessMachine[] = [];
      for (const c of containers) {
        const uuid = c.Labels?.[keys.uuid];
        if (uuid === undefined) continue; // Networks and images are not machines; a container always has its uuid label.
        machines.push({ uuid, running: c.State === 'running' || c.State === 'paused' });
      }
      return machines;
    },
    async close(): Promise<void> {
      await client?.close();
      client = undefined;
    },
  };
}
