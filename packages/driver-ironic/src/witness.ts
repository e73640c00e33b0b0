import type { BackendWitness, WitnessMachine } from '@nova-common/core';
import { IronicClient } from './client/client.js';
import type { IronicDriverConfig } from './config.js';

/**
 * Ironic as the conformance suite's witness sees it: every node of the pool this configuration
 * manages (nodeFilter) that has an instance_uuid set, whatever the driver's records on it say,
 * read with a second API client (it negotiates its own microversion and only reads: no
 * recovery, no waits), never through the driver. Running while Ironic says the node's power is
 * on.
 */
export function ironicWitness(config: IronicDriverConfig): BackendWitness {
  let client: IronicClient | undefined;
  const f = config.nodeFilter;
  return {
    async listMachines(): Promise<WitnessMachine[]> {
      if (client === undefined) {
        const c = new IronicClient({ endpoint: config.endpoint, connections: 2, keepAliveTimeoutMs: config.keepAliveTimeoutMs, requestTimeoutMs: config.requestTimeoutMs, retry: config.retry });
        await c.negotiate(config.microversion);
        client = c;
      }
      const nodes = await client.nodes.list({
        fields: ['uuid', 'instance_uuid', 'power_state'],
        query: { resource_class: f.resourceClass, conductor_group: f.conductorGroup, owner: f.owner, associated: true },
        limit: config.pageSize,
      });
      return nodes
        .filter((n) => typeof n.instance_uuid === 'string' && n.instance_uuid.length > 0)
        .map((n) => ({ uuid: n.instance_uuid!, running: n.power_state === 'power on' }));
    },
    async close(): Promise<void> {
      await client?.close();
      client = undefined;
    },
  };
}
