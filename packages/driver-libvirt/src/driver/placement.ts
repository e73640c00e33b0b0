import { assertFits, errors, expectedUsage, type Flavor } from '@nova-common/core';
import type { DriverContext } from './context.js';
import { nodeInventory, readNodeFacts } from './inventory.js';
import { uuidTaken } from './records.js';
import { reservedUsages } from './migration-book.js';

/**
 * Placement for a spawn, done by the driver since it owns the inventory, from what this
 * session knows without asking libvirtd: the node's capacity as read at initHost or by the
 * last getInventory, and the owned tally (refreshed by every full listing, kept up to date
 * by this driver's own spawns and removals). The flavor must fit (core's assertFits:
 * Placement's rule) counting the spawns in flight; the check and the reservation happen in
 * one step, so two concurrent spawns cannot both take the last room. Whether the uuid is
 * free is libvirt's to say, atomically, when the domain is created (see instanceDomainName).
 */
export async function place(ctx: DriverContext, uuid: string, flavor: Flavor, signal?: AbortSignal): Promise<void> {
  const node = ctx.node ?? (await readNodeFacts(ctx, signal));
  const usage = expectedUsage(flavor);
  // Read before the check: from the check to the reservation nothing awaits.
  const migrations = ctx.hasFiles ? await reservedUsages(ctx) : [];
  try {
    assertFits(usage, nodeInventory(ctx, node, [...ctx.owned.usages(), ...ctx.reservations.values(), ...migrations]), { op: 'spawn', target: uuid });
  } catch (err) {
    // The table's answer comes first: a uuid in use is INSTANCE_EXISTS whatever the flavor.
    if (await uuidTaken(ctx, uuid, signal)) throw errors.exists(uuid, 'spawn');
    throw err;
  }
  ctx.reservations.set(uuid, usage);
}

/** The spawn of `uuid` ended: on success what it reserved becomes the instance's entry in the tally. */
export function settlePlacement(ctx: DriverContext, uuid: string, succeeded: boolean): void {
  const usage = ctx.reservations.get(uuid);
  ctx.reservations.delete(uuid);
  if (succeeded && usage) ctx.owned.noteOwned(uuid, usage);
}
