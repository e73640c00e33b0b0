import type { InstanceSpec } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'node-not-released',
  bug: 'multi-node: after destroy the node stays in cleaning for good (the end of cleaning is never observed).',
  caughtBy: ['P-TEARDOWN-CLEAN', 'P-INVENTORY', 'P-SPAWN-ATOMIC-FAULT', 'P-ERRORS-SURFACE'],
  create: () => {
    const nodeOf = new Map<string, string>();
    const stuck = new Set<string>();
    return mutate({ nodes: 4, releaseDelayMs: 5 }, (inner) => ({
      spawn: async (spec: InstanceSpec, options?: unknown) => {
        await inner.spawn(spec, options as undefined);
        nodeOf.set(spec.uuid.toLowerCase(), (await inner.getInfo(spec.uuid)).node);
      },
      destroy: async (uuid: string, options?: unknown) => {
        await inner.destroy(uuid, options as undefined);
        const node = nodeOf.get(uuid.toLowerCase());
        if (node) stuck.add(node);
      },
      listNodes: async () =>
        (await inner.listNodes()).map((n) => (stuck.has(n.id) && n.available ? { id: n.id, available: false, unavailableReason: 'cleaning' as const } : n)),
    }));
  },
};
