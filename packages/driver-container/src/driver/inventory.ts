import { assertFits, expectedUsage, type Flavor, type HostInventory, type InventoryRecord, type NodeInventory } from '@nova-common/core';
import { listVolumes } from '../client/transfer.js';
import { phaseOfName, readInstanceLabels } from '../mapping/labels.js';
import { deliveredIdOf, migrationKeys, targetOfReservation } from '../mapping/migration.js';
import type { EngineContext } from './context.js';
import { ownedContainers } from './instances.js';

/**
 * What this driver's instances use: the sum of expectedUsage of their flavors (read from their labels),
 * plus the flavors of the migrations prepared here that have not delivered their instance (R-MIGRATE-RESERVE):
 * once one has, its delivered mark is beside the reservation (and the instance's container carries the
 * migration's id and counts as an instance), so the reservation no longer does: it became the
 * instance's, as in the reference, also once the instance left again; finishMigration then removes it.
 */
async function usedResources(ctx: EngineContext, signal?: AbortSignal): Promise<Record<string, number>> {
  const used: Record<string, number> = {};
  const add = (flavor: Flavor) => {
    for (const [cls, n] of Object.entries(expectedUsage(flavor))) used[cls] = (used[cls] ?? 0) + n;
  };
  const arrived = new Set<string>();
  const migrationKey = migrationKeys(ctx.naming).migrationId;
  for (const c of await ownedContainers(ctx, signal)) {
    if (phaseOfName(ctx.naming, c.Names[0] ?? '')?.phase !== 'instance') continue;
    const labels = readInstanceLabels(ctx.naming, c.Labels);
    if (!labels?.flavor) continue;
    add(labels.flavor);
    const mid = c.Labels?.[migrationKey];
    if (mid) arrived.add(mid);
  }
  // One label filter: podman 4.3 answers nothing to two on images, so volumes are not trusted with it either; the kind is checked here.
  const volumes = await listVolumes(ctx.client, { label: [`${ctx.keys.owner}=${ctx.config.ownerId}`] }, signal);
  for (const v of volumes) {
    const delivered = deliveredIdOf(ctx.naming, v.Labels);
    if (delivered) arrived.add(delivered);
  }
  for (const v of volumes) {
    const target = targetOfReservation(ctx.naming, v.Labels);
    if (target && !arrived.has(target.migrationId)) add(target.flavor);
  }
  return used;
}

function record(total: number, allocationRatio: number, used: number): InventoryRecord {
  return { total, reserved: 0, used, minUnit: 1, maxUnit: Math.max(1, total), stepSize: 1, allocationRatio };
}

/**
 * The one node's inventory: VCPU = the engine's CPUs, MEMORY_MB = its memory, DISK_GB = the
 * size of the filesystem holding its root dir, each with the configured allocation ratio.
 */
export async function nodeInventory(ctx: EngineContext, signal?: AbortSignal): Promise<NodeInventory> {
  const used = await usedResources(ctx, signal);
  const { config, host } = ctx;
  return {
    node: host.node,
    resources: {
      VCPU: record(host.cpus, config.cpuAllocationRatio, used['VCPU'] ?? 0),
      MEMORY_MB: record(host.memoryMb, config.ramAllocationRatio, used['MEMORY_MB'] ?? 0),
      DISK_GB: record(host.diskGb, config.diskAllocationRatio, used['DISK_GB'] ?? 0),
    },
    traits: ['COMPUTE_NODE'],
  };
}

export async function getInventory(ctx: EngineContext, signal?: AbortSignal): Promise<HostInventory> {
  return { nodes: [await nodeInventory(ctx, signal)] };
}

/** Placement's check before a spawn: INSUFFICIENT_RESOURCES when the flavor does not fit what is left. */
export async function assertSpawnFits(ctx: EngineContext, flavor: Flavor, signal?: AbortSignal): Promise<void> {
  assertFits(expectedUsage(flavor), await nodeInventory(ctx, signal), { op: 'spawn', target: ctx.host.node });
}
