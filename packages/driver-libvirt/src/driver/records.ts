import { expectedUsage } from '@nova-common/core';
import { Flags, VirErr, type DomainRef } from '../client/protocol/remote-types.js';
import { isLibvirtCode } from '../mapping/errors.js';
import { METADATA_NS, type InstanceRecord } from '../mapping/instance-record.js';
import { parseInstanceMetadata } from '../mapping/xml-read.js';
import type { DriverContext } from './context.js';

/**
 * The record of a domain named like this driver's, from its metadata (one
 * DOMAIN_GET_METADATA): the record when it carries this driver's ownership marker and
 * prefix, null when the domain is someone else's, undefined when it is gone. The answer is
 * noted in the owned index.
 */
export async function readRecord(ctx: DriverContext, d: DomainRef, uuid: string, signal?: AbortSignal): Promise<InstanceRecord | null | undefined> {
  let xml: string;
  try {
    xml = await ctx.client.getMetadata(d, METADATA_NS, 0, signal ? { signal } : undefined);
  } catch (err) {
    if (isLibvirtCode(err, VirErr.NO_DOMAIN)) return undefined;
    if (!isLibvirtCode(err, VirErr.NO_DOMAIN_METADATA)) throw err;
    ctx.owned.noteForeign(uuid);
    return null;
  }
  const r = parseInstanceMetadata(xml, uuid);
  if (!r || r.ownerPrefix !== ctx.config.namePrefix) {
    ctx.owned.noteForeign(uuid);
    return null;
  }
  noteOwned(ctx, r);
  return r;
}

/** Record in the owned index that this instance is ours, with what its flavor uses. */
export function noteOwned(ctx: DriverContext, r: InstanceRecord): void {
  if (!ctx.owned.lookup(r.uuid)) ctx.owned.noteOwned(r.uuid, expectedUsage(r.flavor));
}

/**
 * Bring the owned tally in line with a listing of libvirtd's persistent domains (one
 * CONNECT_LIST_ALL_DOMAINS; a transient domain is a spawn not finished, not an instance):
 * domains named like ours that it does not know yet cost one metadata read each (all in
 * flight at once), domains gone are forgotten. This session's spawns in flight are left to
 * placement's reservations.
 */
export async function refreshOwned(ctx: DriverContext, signal?: AbortSignal): Promise<void> {
  const listing = ctx.owned.beginListing();
  const domains = await ctx.client.listAllDomains(Flags.LIST_DOMAINS_PERSISTENT, signal ? { signal } : undefined);
  const present = new Set<string>();
  const unknown: Promise<unknown>[] = [];
  for (const d of domains) {
    const uuid = ctx.instanceUuidOf(d);
    if (uuid === undefined) continue;
    present.add(uuid);
    if (!ctx.inFlight.has(uuid) && ctx.owned.lookup(uuid) === undefined) unknown.push(readRecord(ctx, d, uuid, signal));
  }
  await Promise.all(unknown);
  ctx.owned.retain(present, listing);
}

/** Whether a domain has this uuid, whoever's it is (one DOMAIN_LOOKUP_BY_UUID). */
export async function uuidTaken(ctx: DriverContext, uuid: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await ctx.client.lookupByUuid(uuid, signal ? { signal } : undefined);
    return true;
  } catch (err) {
    if (isLibvirtCode(err, VirErr.NO_DOMAIN)) return false;
    throw err;
  }
}
