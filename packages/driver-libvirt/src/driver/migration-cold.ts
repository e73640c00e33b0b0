import { throwIfAborted } from '@nova-common/core';
import { instanceDiskFormat } from '../images/formats.js';
import { imageInfo, resize } from '../images/qemu-img.js';
import { buildDomainXml, rootDiskPath } from '../mapping/domain-xml.js';
import type { MigrationAddress } from '../mapping/migration-address.js';
import type { InstanceRecord } from '../mapping/instance-record.js';
import * as files from '../host-files.js';
import type { DriverContext } from './context.js';
import type { Loaded } from './instances.js';
import { markDeliveredIn, type PreparedMigration } from './migration-book.js';
import { connectDestination } from './migration-peer.js';
import { enterPhase } from './migration-progress.js';
import { undoColdMove } from './migration-undo.js';
import { hardStop, removeDomain } from './teardown.js';

/** The root disk grows to the target flavor's root (a shrink is refused before anything moves). */
async function growRoot(record: InstanceRecord, destDir: string, rootGb: number): Promise<void> {
  const path = rootDiskPath({ instanceDir: destDir });
  const format = instanceDiskFormat(record.image.diskFormat);
  const bytes = rootGb * 1024 ** 3;
  if ((await imageInfo(path, format)).virtualSize < bytes) await resize(path, format, bytes);
}

/**
 * A cold migration (and resize): the guest is stopped (forced: Nova powers off before it too),
 * its directory (disks, console log) copied sparse into the destination's, the domain defined
 * on the destination from the record with the target's flavor, and started there if it ran.
 * Only then is the source's domain removed with its files. On failure the destination's
 * domain and files go (migration-undo.ts) and the guest is started again here if it ran.
 * libvirt's offline migration moves only a definition and cannot start it on the destination,
 * so this driver defines and starts it on the destination's daemon itself.
 */
export async function coldMigrate(ctx: DriverContext, l: Loaded, dest: MigrationAddress, destDir: string, prepared: PreparedMigration, signal: AbortSignal | undefined): Promise<void> {
  const { target } = prepared;
  const record: InstanceRecord = { ...l.record, flavor: target.flavor };
  const uuid = l.record.uuid;
  const wasRunning = l.semantic === 'RUNNING';
  const client = await connectDestination(ctx, dest);
  try {
    let stopped = false;
    let defining = false;
    try {
      throwIfAborted(signal);
      if (wasRunning) {
        await hardStop(ctx, l.ref);
        stopped = true;
      }
      await files.copyTreeSparse(ctx.instanceDir(uuid), destDir);
      await growRoot(record, destDir, record.flavor.rootGb);
      throwIfAborted(signal);
      enterPhase(ctx, uuid, 'SWITCHING');
      const env = { ...ctx.env(uuid, l.domain.name), instanceDir: destDir };
      defining = true;
      await client.defineXml(buildDomainXml(record, env));
      if (wasRunning) await client.create(l.ref);
      await markDeliveredIn(dest.instancesDir, prepared);
    } catch (err) {
      // Once the define was sent, the destination may hold the domain even when its answer was lost.
      if (defining) await undoColdMove(ctx, dest, destDir, target, l.domain.name);
      else await files.removeTree(destDir).catch(() => undefined);
      if (stopped) await ctx.client.create(l.ref).catch(() => undefined);
      throw err;
    }
    // The instance is on the destination: the source's domain and files go.
    enterPhase(ctx, uuid, 'CLEANING');
    await removeDomain(ctx, l.ref, uuid, false);
  } finally {
    await client.close().catch(() => undefined);
  }
}
