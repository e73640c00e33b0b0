import { Flags, VirErr, type DomainRef } from '../client/protocol/remote-types.js';
import { isLibvirtCode } from '../mapping/errors.js';
import { isActive } from '../mapping/state.js';
import * as files from '../host-files.js';
import type { DriverContext } from './context.js';

/** Undefine with the managed save image and snapshot metadata (libvirt refuses otherwise). */
const UNDEFINE_ALL = Flags.UNDEFINE_MANAGED_SAVE | Flags.UNDEFINE_SNAPSHOTS_METADATA;

/** The domain's libvirt state, or undefined when it does not exist. */
async function stateOrAbsent(ctx: DriverContext, ref: DomainRef): Promise<number | undefined> {
  try {
    return (await ctx.client.getState(ref)).state;
  } catch (err) {
    if (isLibvirtCode(err, VirErr.NO_DOMAIN)) return undefined;
    throw err;
  }
}

/** Force a domain off; fine when it is already off. */
export async function hardStop(ctx: DriverContext, ref: DomainRef): Promise<void> {
  try {
    await ctx.client.destroy(ref);
  } catch (err) {
    const state = await ctx.client.getState(ref);
    if (isActive(state.state)) throw err;
  }
}

/**
 * Remove a domain of this driver: stop it, undefine it, remove its host files (volumes belong
 * to the volume service and are never removed). `active` is its state as the caller just read
 * it; undefined means read it. A running domain is destroyed and undefined with both calls in
 * flight at once: in either order it ends gone (undefining a running domain leaves it
 * transient, destroying a transient domain removes it). Fine when the domain is already gone.
 */
export async function removeDomain(ctx: DriverContext, ref: DomainRef, uuid: string, active?: boolean): Promise<void> {
  const running = active ?? (await stateOrAbsent(ctx, ref).then((s) => (s === undefined ? undefined : isActive(s))));
  if (running !== undefined) {
    const calls = running ? [ctx.client.destroy(ref), ctx.client.undefine(ref, UNDEFINE_ALL)] : [ctx.client.undefine(ref, UNDEFINE_ALL)];
    const settled = await Promise.allSettled(calls);
    if (settled.some((r) => r.status === 'rejected' && !isLibvirtCode(r.reason, VirErr.NO_DOMAIN))) await finishRemoval(ctx, ref);
  }
  ctx.owned.forget(uuid);
  ctx.reservations.delete(uuid);
  if (ctx.hasFiles) await files.removeTree(ctx.instanceDir(uuid));
}

/** After a removal that did not go cleanly: whatever is left, stopped then undefined, one call at a time. */
async function finishRemoval(ctx: DriverContext, ref: DomainRef): Promise<void> {
  const state = await stateOrAbsent(ctx, ref);
  if (state === undefined) return;
  if (isActive(state)) await hardStop(ctx, ref);
  try {
    await ctx.client.undefine(ref, UNDEFINE_ALL);
  } catch (err) {
    if (!isLibvirtCode(err, VirErr.NO_DOMAIN)) throw err;
  }
}
