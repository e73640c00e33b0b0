import { throwIfAborted } from '@nova-common/core';
import { LibvirtClient } from '../client/libvirt-client.js';
import { VirErr } from '../client/protocol/remote-types.js';
import { daemonUri } from '../config.js';
import { instanceDiskFormat } from '../images/formats.js';
import { imageInfo, resize } from '../images/qemu-img.js';
import { buildDomainXml, rootDiskPath } from '../mapping/domain-xml.js';
import { isLibvirtCode } from '../mapping/errors.js';
import type { MigrationAddress } from '../mapping/migration-address.js';
import type { InstanceRecord } from '../mapping/instance-record.js';
import * as files from '../host-files.js';
import type { DriverContext } from './context.js';
import type { Loaded } from './instances.js';
import { enterPhase } from './migration-progress.js';
import { hardStop, removeDomain } from './teardown.js';

/** Undefine with the managed save image and snapshot metadata (see teardown.ts). */
const UNDEFINE_ALL = 1 | 2;

/** A short-lived connection to the destination's daemon, as this driver reaches it. */
async function connectDestination(ctx: DriverContext, dest: MigrationAddress, connectTimeoutMs = ctx.config.connectTimeoutMs): Promise<LibvirtClient> {
  const client = new LibvirtClient({
    socketPath: dest.socketPath,
    uri: daemonUri(dest.openUri),
    callTimeoutMs: ctx.config.callTimeoutMs,
    connectTimeoutMs,
    keepaliveIntervalMs: 0,
  });
  await client.connect();
  return client;
}

/** Whether the destination's daemon answers now (after a failed migration: was the peer lost?). */
export async function destinationAnswers(ctx: DriverContext, dest: MigrationAddress): Promise<boolean> {
  try {
    const client = await connectDestination(ctx, dest, Math.min(ctx.config.connectTimeoutMs, 5_000));
    await client.close().catch(() => undefined);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the destination's daemon has a domain of the instance (R-MIGRATE-EXISTS at migrate: it
 * was spawned there after the prepare, an evacuation); asked before anything moves.
 */
export async function destinationHolds(ctx: DriverContext, dest: MigrationAddress, uuid: string): Promise<boolean> {
  const client = await connectDestination(ctx, dest);
  try {
    await client.lookupByUuid(uuid);
    return true;
  } catch (err) {
    if (isLibvirtCode(err, VirErr.NO_DOMAIN)) return false;
    throw err;
  } finally {
    await client.close().catch(() => undefined);
  }
}

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
 * domain and files go and the guest is started again here if it ran.
 * libvirt's offline migration moves only a definition and cannot start it on the destination,
 * so this driver defines and starts it on the destination's daemon itself.
 */
export async function coldMigrate(ctx: DriverContext, l: Loaded, dest: MigrationAddress, destDir: string, record: InstanceRecord, signal: AbortSignal | undefined): Promise<void> {
  const uuid = l.record.uuid;
  const wasRunning = l.semantic === 'RUNNING';
  const client = await connectDestination(ctx, dest);
  try {
    let stopped = false;
    let defined = false;
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
      await client.defineXml(buildDomainXml(record, env));
      defined = true;
      if (wasRunning) await client.create(l.ref);
    } catch (err) {
      if (defined) {
        await client.destroy(l.ref).catch(() => undefined);
        await client.undefine(l.ref, UNDEFINE_ALL).catch(() => undefined);
      }
      await files.removeTree(destDir).catch(() => undefined);
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
