import type { CallOptions, HostInventory, InventoryRecord, NodeInfo, NodeInventory } from '@nova-common/core';
import { toContractError } from '../mapping/errors.js';
import * as files from '../host-files.js';
import type { DriverContext, NodeFacts } from './context.js';
import type { Usage } from './owned-index.js';
import { ensureReady } from './readiness.js';
import { refreshOwned } from './records.js';
import { reservedUsages } from './migration-book.js';

/** Read what the node offers (NODE_GET_INFO, and the instances' filesystem unless diskTotalGb is set) and keep it. */
export async function readNodeFacts(ctx: DriverContext, signal?: AbortSignal): Promise<NodeFacts> {
  const node = await ctx.client.nodeGetInfo(signal ? { signal } : undefined);
  const diskGb = ctx.config.diskTotalGb ?? (await files.filesystemGb(ctx.config.instancesDir));
  ctx.node = { cpus: node.cpus, memoryMb: Number(node.memoryKib / 1024n), diskGb };
  return ctx.node;
}

/**
 * The node's inventory with `usages` summed into `used`. Classes a flavor asks for through
 * `resources:<CLASS>` that this host does not provide are still reported, with no capacity,
 * so `used` adds up (R-INV-USED).
 */
export function nodeInventory(ctx: DriverContext, node: NodeFacts, usages: Iterable<Usage>): NodeInventory {
  const used: Record<string, number> = {};
  for (const u of usages) for (const [cls, n] of Object.entries(u)) used[cls] = (used[cls] ?? 0) + n;
  const rec = (total: number, reserved: number, ratio: number, cls: string): InventoryRecord => ({
    total,
    reserved: Math.min(reserved, total),
    used: used[cls] ?? 0,
    minUnit: 1,
    maxUnit: Math.max(1, total),
    stepSize: 1,
    allocationRatio: ratio,
  });
  const { config } = ctx;
  const resources: Record<string, InventoryRecord> = {
    VCPU: rec(node.cpus, 0, config.cpuAllocationRatio, 'VCPU'),
    MEMORY_MB: rec(node.memoryMb, config.reservedHostMemoryMb, config.ramAllocationRatio, 'MEMORY_MB'),
    DISK_GB: rec(node.diskGb, 0, config.diskAllocationRatio, 'DISK_GB'),
  };
  for (const cls of Object.keys(used)) if (!(cls in resources)) resources[cls] = rec(0, 0, 1, cls);
  return { node: ctx.nodeName, resources, traits: ['COMPUTE_NODE'] };
}

/**
 * The node's inventory: NODE_GET_INFO and a full listing in flight at once, `used` summed
 * from the refreshed owned tally. Placement decides from the same numbers.
 */
export async function getInventory(ctx: DriverContext, options?: CallOptions): Promise<HostInventory> {
  await ensureReady(ctx, 'getInventory');
  try {
    const [node] = await Promise.all([readNodeFacts(ctx, options?.signal), refreshOwned(ctx, options?.signal)]);
    // Prepared migrations count until their instance arrives (R-MIGRATE-RESERVE).
    const migrations = ctx.hasFiles ? await reservedUsages(ctx) : [];
    return { nodes: [nodeInventory(ctx, node, [...ctx.owned.usages(), ...migrations])] };
  } catch (err) {
    throw toContractError(err, 'getInventory');
  }
}

export async function listNodes(ctx: DriverContext): Promise<NodeInfo[]> {
  await ensureReady(ctx, 'listNodes');
  return [{ id: ctx.nodeName, available: true }];
}
