import { errors, type CallOptions, type SnapshotResult, type SnapshotSpec } from '@nova-common/core';
import { toContractError } from '../mapping/errors.js';
import { instanceDiskFormat } from '../images/formats.js';
import { SNAPSHOT_ID, newSnapshotId } from '../mapping/snapshot-records.js';
import type { DriverContext } from './context.js';
import { withInstance } from './instances.js';
import { ensureReady } from './readiness.js';
import { createDomainSnapshot, deleteDomainSnapshot } from './snapshot-domains.js';
import { listSnapshotImages, removeSnapshotImage, writeSnapshotImage } from './snapshot-files.js';

/**
 * Snapshot: on QEMU/KVM a copy of the root disk becomes an image in imageDir
 * (snapshot-files.ts); on libvirt's test driver, which has no disks, a libvirt snapshot of the
 * domain stands for it (snapshot-domains.ts). Allowed wherever the table says (a suspended
 * instance's disk is quiescent: its copy is taken as it is).
 */
export async function snapshot(ctx: DriverContext, uuid: string, spec: SnapshotSpec, options?: CallOptions): Promise<SnapshotResult> {
  const imageId = newSnapshotId();
  const result = await withInstance(ctx, 'snapshot', 'snapshot', uuid, options, async (l): Promise<SnapshotResult> => {
    const base: SnapshotResult = { imageId, name: spec.name, diskFormat: l.record.image.diskFormat as SnapshotResult['diskFormat'], containerFormat: 'bare' };
    if (!ctx.hasFiles) return createDomainSnapshot(ctx, l, imageId, base, options?.signal);
    // The copy is of the instance's disk, whose format is the image's for raw and qcow2 and raw for images converted at spawn.
    return writeSnapshotImage(ctx, l, { imageId, name: base.name, diskFormat: instanceDiskFormat(l.record.image.diskFormat), containerFormat: base.containerFormat });
  });
  // Snapshot is valid in every existing state the table lets it reach here; its refusals throw.
  return result!;
}

/** Delete a snapshot this driver made (an unknown id is a no-op). */
export async function deleteSnapshot(ctx: DriverContext, imageId: string, options?: CallOptions): Promise<void> {
  await ensureReady(ctx, 'deleteSnapshot');
  if (!SNAPSHOT_ID.test(imageId)) return;
  try {
    if (ctx.hasFiles) await removeSnapshotImage(ctx, imageId);
    else await deleteDomainSnapshot(ctx, imageId, options?.signal);
  } catch (err) {
    throw toContractError(err, 'deleteSnapshot', imageId);
  }
}

/**
 * The snapshots this driver made and deleteSnapshot has not removed, oldest first, read from
 * the image directory (QEMU/KVM). On libvirt's test driver a snapshot is metadata of its
 * instance's domain and goes with it, so the listing could not keep R-SNAPSHOT-LIST: declared
 * missing there, and refused.
 */
export async function listSnapshots(ctx: DriverContext, _options?: CallOptions): Promise<SnapshotResult[]> {
  if (!ctx.hasFiles) throw errors.unsupported('operation.list-snapshots', 'listSnapshots');
  await ensureReady(ctx, 'listSnapshots');
  try {
    return await listSnapshotImages(ctx);
  } catch (err) {
    throw toContractError(err, 'listSnapshots');
  }
}
