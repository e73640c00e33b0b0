import type { SnapshotResult } from '@nova-common/core';
import { VirErr } from '../client/protocol/remote-types.js';
import { isLibvirtCode } from '../mapping/errors.js';
import type { DriverContext } from './context.js';
import { listRecords, type Loaded } from './instances.js';
import { callOptions } from './transitions.js';

/**
 * Snapshots on libvirt's test driver, which has no disks: a libvirt snapshot of the domain,
 * named by its image id, stands for the image. It is metadata of its domain: it goes when the
 * instance is destroyed (which is why listSnapshots is declared missing there).
 */

export async function createDomainSnapshot(ctx: DriverContext, l: Loaded, imageId: string, result: SnapshotResult, signal?: AbortSignal): Promise<SnapshotResult> {
  const xml = `<domainsnapshot><name>${imageId}</name></domainsnapshot>`;
  await ctx.client.snapshotCreateXml(l.ref, xml, 0, callOptions(signal));
  return result;
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
