import type { SnapshotResult } from '@nova-common/core';
import { VirErr } from '../client/protocol/remote-types.js';
import { isLibvirtCode } from '../mapping/errors.js';
import { SNAPSHOT_ID, parseDomainSnapshotXml, snapshotDescription } from '../mapping/snapshot-records.js';
import type { DriverContext } from './context.js';
import { listRecords, type Loaded } from './instances.js';
import { callOptions } from './transitions.js';

/**
 * Snapshots on libvirt's test driver, which has no disks: a libvirt snapshot of the domain,
 * named by its image id, stands for the image; the caller's name and the format travel in its
 * description. It is metadata of its domain: it goes when the instance is destroyed.
 */

export async function createDomainSnapshot(ctx: DriverContext, l: Loaded, imageId: string, result: SnapshotResult, signal?: AbortSignal): Promise<SnapshotResult> {
  const xml = `<domainsnapshot><name>${imageId}</name><description>${snapshotDescription(result.name, result.diskFormat)}</description></domainsnapshot>`;
  await ctx.client.snapshotCreateXml(l.ref, xml, 0, callOptions(signal));
  return result;
}

/** The snapshots of every instance of this driver, oldest first (libvirt's creation time, then the id). */
export async function listDomainSnapshots(ctx: DriverContext, signal?: AbortSignal): Promise<SnapshotResult[]> {
  const o = callOptions(signal);
  const found: { result: SnapshotResult; creationTime: number }[] = [];
  for (const r of await listRecords(ctx, signal)) {
    let snaps;
    try {
      snaps = await ctx.client.listAllSnapshots(ctx.ref(r.uuid), 0, o);
    } catch (err) {
      if (isLibvirtCode(err, VirErr.NO_DOMAIN)) continue; // destroyed meanwhile
      throw err;
    }
    for (const snap of snaps.filter((s) => SNAPSHOT_ID.test(s.name))) {
      let facts;
      try {
        facts = parseDomainSnapshotXml(await ctx.client.snapshotGetXmlDesc(snap, 0, o));
      } catch (err) {
        if (isLibvirtCode(err, VirErr.NO_DOMAIN, VirErr.NO_DOMAIN_SNAPSHOT)) continue;
        throw err;
      }
      const described = facts.described ?? { name: snap.name, diskFormat: r.image.diskFormat as SnapshotResult['diskFormat'] };
      found.push({ result: { imageId: snap.name, name: described.name, diskFormat: described.diskFormat, containerFormat: 'bare' }, creationTime: facts.creationTime });
    }
  }
  return found
    .sort((a, b) => a.creationTime - b.creationTime || (a.result.imageId < b.result.imageId ? -1 : a.result.imageId > b.result.imageId ? 1 : 0))
    .map((f) => f.result);
}

/** Delete the libvirt snapshot named `imageId` from whichever instance has it; fine when none has. */
export async function deleteDomainSnapshot(ctx: DriverContext, imageId: string, signal?: AbortSignal): Promise<void> {
  for (const r of await listRecords(ctx, signal)) {
    try {
      await ctx.client.snapshotDelete(await ctx.client.snapshotLookupByName(ctx.ref(r.uuid), imageId), 0);
      return;
    } catch (err) {
      if (!isLibvirtCode(err, VirErr.NO_DOMAIN_SNAPSHOT, VirErr.NO_DOMAIN)) throw err;
    }
  }
}
