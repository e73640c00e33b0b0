import { holderIsGone } from '@nova-common/core';
import { Flags } from '../client/protocol/remote-types.js';
import { toContractError } from '../mapping/errors.js';
import type { DriverContext } from './context.js';
import { readRecord, refreshOwned } from './records.js';
import { removeDomain } from './teardown.js';
import { releaseInstancePlugs } from './plugs.js';

/**
 * Connect if needed. After every (re)connect, before anything else: sweep half-spawned
 * leftovers and re-read the owned tally (events may have been missed while disconnected).
 */
export async function ensureReady(ctx: DriverContext, op: string): Promise<void> {
  if (!ctx.client.isReady) {
    try {
      await ctx.client.connect();
    } catch (err) {
      throw toContractError(err, op);
    }
  }
  if (!ctx.resyncNeeded) return;
  ctx.resyncing ??= resync(ctx).finally(() => {
    ctx.resyncing = undefined;
  });
  try {
    await ctx.resyncing;
  } catch (err) {
    throw toContractError(err, op);
  }
}

async function resync(ctx: DriverContext): Promise<void> {
  ctx.resyncNeeded = false;
  try {
    await sweep(ctx);
    await refreshOwned(ctx);
  } catch (err) {
    ctx.resyncNeeded = true;
    throw err;
  }
}

/**
 * Remove half-spawned domains. A spawn makes its domain persistent as its last step, so a
 * transient domain of this driver is a spawn that did not finish: this session's own (its
 * rollback could not reach libvirtd) unless still in flight, and other sessions' once their
 * process has certainly died (killed mid-spawn: see currentHolder) or, where that cannot be
 * told (another host or pid namespace, an older driver), once older than staleSpawnMs. One CONNECT_LIST_ALL_DOMAINS of transient
 * domains (usually none), then one metadata read per transient domain named like ours.
 */
async function sweep(ctx: DriverContext): Promise<void> {
  const transient = await ctx.client.listAllDomains(Flags.LIST_DOMAINS_TRANSIENT);
  for (const d of transient) {
    const uuid = ctx.instanceUuidOf(d);
    if (uuid === undefined || ctx.inFlight.has(uuid)) continue;
    const r = await readRecord(ctx, d, uuid).catch(() => undefined);
    if (!r) continue;
    const age = Date.now() - Date.parse(r.since);
    if (r.session === ctx.session || !(age < ctx.config.staleSpawnMs) || (r.holder !== undefined && holderIsGone(r.holder))) {
      await removeDomain(ctx, d, uuid, true);
      // What that spawn plugged and connected goes with it (best effort: a destroy of the uuid retries the VIFs).
      await releaseInstancePlugs(ctx, uuid, r).catch(() => undefined);
    }
  }
}
