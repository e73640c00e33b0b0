import { randomUUID } from 'node:crypto';
import type { CallOptions, SnapshotResult, SnapshotSpec } from '@nova-common/core';
import { DomainState, VirErr } from '../client/protocol/remote-types.js';
import { rootDiskPath } from '../mapping/domain-xml.js';
import { isLibvirtCode, toContractError } from '../mapping/errors.js';
import * as files from '../host-files.js';
import type { DriverContext } from './context.js';
import { listRecords, withInstance, type Loaded } from './instances.js';
import { ensureReady } from './readiness.js';

/** Image ids this driver gives its snapshots; deleteSnapshot ignores any other id. */
const SNAPSHOT_ID = /^snapshot-[0-9a-f-]{36}$/;

/** QEMU/KVM: a cold-consistent copy of the root disk into imageDir (vCPUs paused around the copy of a running guest). */
async function copyRootDisk(ctx: DriverContext, l: Loaded, imageId: string): Promise<number | undefined> {
  const running = l.state === DomainState.RUNNING || l.state === DomainState.BLOCKED;
  const target = files.inside(ctx.config.imageDir, imageId);
  if (running) await ctx.client.suspend(l.ref);
  try {
    await files.copyImage(rootDiskPath({ instanceDir: ctx.instanceDir(l.record.uuid) }), target);
  } finally {
    if (running) await ctx.client.resume(l.ref);
  }
  return files.fileSize(target);
}

/**
 * Snapshot: on QEMU/KVM a copy of the root disk becomes an image in imageDir; on libvirt's
 * test driver, which has no disks, a libvirt snapshot of the domain stands for it.
 */
export async function snapshot(ctx: DriverContext, uuid: string, spec: SnapshotSpec, options?: CallOptions): Promise<SnapshotResult> {
  const imageId = `snapshot-${randomUUID()}`;
  const result = await withInstance(ctx, 'snapshot', 'snapshot', uuid, options, async (l): Promise<SnapshotResult> => {
    const base = { imageId, name: spec.name, diskFormat: l.record.image.diskFormat as SnapshotResult['diskFormat'], containerFormat: 'bare' as const };
    if (!ctx.hasFiles) {
      const o = options?.signal ? { signal: options.signal } : undefined;
      await ctx.client.snapshotCreateXml(l.ref, `<domainsnapshot><name>${imageId}</name></domainsnapshot>`, 0, o);
      return base;
    }
    const size = await copyRootDisk(ctx, l, imageId);
    return { ...base, ...(size !== undefined ? { sizeBytes: size } : {}) };
  });
  // Snapshot is valid in every existing state; the table's only refusal (ABSENT) throws.
  return result!;
}

/** Delete a snapshot this driver made (an unknown id is a no-op). */
export async function deleteSnapshot(ctx: DriverContext, imageId: string, options?: CallOptions): Promise<void> {
  await ensureReady(ctx, 'deleteSnapshot');
  if (!SNAPSHOT_ID.test(imageId)) return;
  try {
    if (ctx.hasFiles) {
      await files.removeFile(files.inside(ctx.config.imageDir, imageId));
      return;
    }
    // On the test driver the snapshot belongs to one of the instances: find which.
    for (const r of await listRecords(ctx, options?.signal)) {
      const ref = ctx.ref(r.uuid);
      try {
        await ctx.client.snapshotDelete(await ctx.client.snapshotLookupByName(ref, imageId), 0);
        return;
      } catch (err) {
        if (!isLibvirtCode(err, VirErr.NO_DOMAIN_SNAPSHOT, VirErr.NO_DOMAIN)) throw err;
      }
    }
  } catch (err) {
    throw toContractError(err, 'deleteSnapshot', imageId);
  }
}
