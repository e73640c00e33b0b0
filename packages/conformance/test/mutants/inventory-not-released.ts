import { expectedUsage, FlavorSchema, type InstanceSpec } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'inventory-not-released',
  bug: 'destroy removes the instance but its resources keep counting as used in the inventory.',
  caughtBy: ['P-INVENTORY', 'P-TEARDOWN-CLEAN'],
  create: () => {
    const usage = new Map<string, Record<string, number>>();
    const leaked: Record<string, number> = {};
    return mutate({}, (inner) => ({
      spawn: async (spec: InstanceSpec, options?: unknown) => {
        await inner.spawn(spec, options as undefined);
        usage.set(spec.uuid.toLowerCase(), expectedUsage(FlavorSchema.parse(spec.flavor)));
      },
      destroy: async (uuid: string, options?: unknown) => {
        await inner.destroy(uuid, options as undefined);
        const u = usage.get(uuid.toLowerCase());
        usage.delete(uuid.toLowerCase());
        if (u) for (const [k, v] of Object.entries(u)) leaked[k] = (leaked[k] ?? 0) + v;
      },
      getInventory: async () => {
        const inv = await inner.getInventory();
        const node = inv.nodes[0]!;
        for (const [k, v] of Object.entries(leaked)) if (node.resources[k]) node.resources[k] = { ...node.resources[k]!, used: node.resources[k]!.used + v };
        return inv;
      },
    }));
  },
};
