/**
 * A scripted Ironic with a fixed set of nodes, on the mock HTTP server: enough of the API for
 * the driver's look-ups (negotiation, filtered node lists, one node) with the mutating answers
 * left to each test. For unit tests of the driver's decisions without a real Ironic.
 */
import type { ServerResponse } from 'node:http';
import { json, type MockIronic, type SeenRequest } from './mock-ironic.js';
import type { IronicNode } from '../../src/client/types.js';

export type Mutation = (req: SeenRequest, res: ServerResponse) => void;

/** Answer GET /v1/, GET /v1/nodes (instance_uuid, provision_state, associated filters) and GET /v1/nodes/{id}; `mutate` gets the rest. */
export function serveNodes(mock: MockIronic, nodes: IronicNode[], mutate: Mutation): void {
  mock.handle((req, res) => {
    const url = new URL(req.url, 'http://ironic');
    if (req.method === 'GET' && url.pathname === '/v1/') return json(res, 200, { id: 'v1' });
    if (req.method === 'GET' && url.pathname === '/v1/nodes') {
      const q = url.searchParams;
      const found = nodes.filter(
        (n) =>
          (!q.has('instance_uuid') || n.instance_uuid === q.get('instance_uuid')) &&
          (!q.has('provision_state') || n.provision_state === q.get('provision_state')) &&
          (!q.has('associated') || Boolean(n.instance_uuid) === (q.get('associated') === 'true')),
      );
      return json(res, 200, { nodes: found });
    }
    const one = /^\/v1\/nodes\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && one) {
      const n = nodes.find((x) => x.uuid === decodeURIComponent(one[1]!) || x.name === decodeURIComponent(one[1]!));
      return n ? json(res, 200, n) : json(res, 404, { error_message: JSON.stringify({ faultstring: 'Node could not be found.' }) });
    }
    mutate(req, res);
  });
}

/** An available, powered-off node of `resourceClass`. */
export function freeNode(uuid: string, resourceClass: string | null, traits: string[] = []): IronicNode {
  return {
    uuid,
    name: `node-${uuid.slice(0, 4)}`,
    provision_state: 'available',
    target_provision_state: null,
    power_state: 'power off',
    target_power_state: null,
    maintenance: false,
    instance_uuid: null,
    resource_class: resourceClass,
    traits,
    conductor_group: '',
    owner: null,
  };
}

/** A node holding one of our instances (hostId `nova-common`), deployed and in `power`. */
export function deployedNode(uuid: string, instanceUuid: string, power: 'power on' | 'power off'): IronicNode {
  return {
    ...freeNode(uuid, 'baremetal'),
    provision_state: 'active',
    power_state: power,
    instance_uuid: instanceUuid,
    instance_info: {
      nova_common: { owner: 'nova-common', name: 'vm', metadata: {}, flavorId: 'bm', imageId: 'img', vifs: [] },
    },
  };
}
