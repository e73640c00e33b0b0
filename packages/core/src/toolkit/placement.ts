import { DriverError } from '../errors/driver-error.js';
import type { InventoryRecord, NodeInventory } from '../schemas/inventory.js';

/**
 * Why `amount` of one resource class does not fit `record`, in Placement's terms, or
 * undefined when it fits: the amount must lie in [minUnit, maxUnit], be a multiple of
 * stepSize, and `used + amount` must not exceed `(total - reserved) * allocationRatio`.
 */
export function unfitReason(amount: number, record: InventoryRecord | undefined): string | undefined {
  if (amount <= 0) return undefined;
  if (!record) return 'the node has none';
  if (amount < record.minUnit) return `below the minimum unit ${record.minUnit}`;
  if (amount > record.maxUnit) return `above the maximum unit ${record.maxUnit}`;
  if (amount % record.stepSize !== 0) return `not a multiple of the step size ${record.stepSize}`;
  const capacity = (record.total - record.reserved) * record.allocationRatio;
  if (record.used + amount > capacity) return `${Math.max(0, capacity - record.used)} free`;
  return undefined;
}

/** Whether the node carries every trait in `traits` (requiredTraits of the flavor). */
export function hasTraits(node: NodeInventory, traits: readonly string[]): boolean {
  return traits.every((t) => node.traits.includes(t));
}

/** Whether every class of `usage` fits the node's inventory. */
export function fitsNode(usage: Readonly<Record<string, number>>, node: NodeInventory): boolean {
  for (const cls in usage) if (unfitReason(usage[cls]!, node.resources[cls]) !== undefined) return false;
  return true;
}

/**
 * Placement's check for one node: throws INSUFFICIENT_RESOURCES naming the first class of
 * `usage` (expectedUsage of the flavor) that does not fit, and why.
 */
export function assertFits(usage: Readonly<Record<string, number>>, node: NodeInventory, where: { op: string; target: string }): void {
  for (const cls in usage) {
    const amount = usage[cls]!;
    const reason = unfitReason(amount, node.resources[cls]);
    if (reason !== undefined) {
      throw new DriverError('INSUFFICIENT_RESOURCES', { op: where.op, target: where.target, detail: `${cls}: ${amount} requested on ${node.node}, ${reason}` });
    }
  }
}
