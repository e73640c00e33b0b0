/** One Ironic node -> one NodeInventory: a unit of its custom resource class, and its traits. */
import type { NodeInventory } from '@nova-common/core';
import type { IronicNode } from '../client/types.js';
import { customResourceClass, nodeAvailability } from './state.js';

const TRAIT = /^[A-Z][A-Z0-9_]{0,254}$/;

/**
 * `used` is 1 when the node hosts one of this driver's instances; `reserved` is 1 when it
 * cannot take one for another reason (maintenance, no power state, cleaning, someone else's
 * instance, not available). A node without a resource class offers nothing.
 */
export function nodeInventoryOf(node: IronicNode, ours: boolean): NodeInventory {
  const traits = (node.traits ?? []).filter((t) => TRAIT.test(t)).sort();
  if (!node.resource_class) return { node: node.uuid, resources: {}, traits };
  const { available } = nodeAvailability(node, ours);
  const used = ours ? 1 : 0;
  const reserved = !ours && !available ? 1 : 0;
  return {
    node: node.uuid,
    resources: {
      [customResourceClass(node.resource_class)]: {
        total: 1,
        reserved,
        used,
        minUnit: 1,
        maxUnit: 1,
        stepSize: 1,
        allocationRatio: 1,
      },
    },
    traits,
  };
}
