import { copyFile } from 'node:fs/promises';
import { abortableSleep } from '@nova-common/core';
import { MigrateFlags, MigrateParam, XML_MIGRATABLE } from '../client/protocol/migrate-args.js';
import { Flags, VirErr } from '../client/protocol/remote-types.js';
import { stringParam, type TypedParam } from '../client/protocol/typed-params.js';
import { instanceDiskFormat } from '../images/formats.js';
import { create as createImage, imageInfo } from '../images/qemu-img.js';
import { consoleLogPath, rootDiskPath } from '../mapping/domain-xml.js';
import { isLibvirtCode } from '../mapping/errors.js';
import { relocateXml, type MigrationAddress } from '../mapping/migration-address.js';
import * as files from '../host-files.js';
import type { DriverContext } from './context.js';
import type { Loaded } from './instances.js';

/**
 * A peer-to-peer live migration (what Nova's libvirt driver does for block migration): the
 * source's libvirtd runs the migration protocol with the destination's itself, copies the
 * memory and, over NBD, the instance's own disks (root, ephemeral, swap) into blank images
 * made beforehand in the destination's instance directory. Volumes are shared storage and
 * stay where they are (migrate_disks leaves them out). The domain arrives persistent under
 * the same name and uuid, with its files' paths moved to the destination's directory, and the
 * source's definition is removed by libvirt once the destination runs (UNDEFINE_SOURCE).
 */
export const LIVE_MIGRATION_FLAGS =
  MigrateFlags.LIVE | MigrateFlags.PEER2PEER | MigrateFlags.PERSIST_DEST | MigrateFlags.UNDEFINE_SOURCE | MigrateFlags.NON_SHARED_DISK;

/** How long the migrate call may take on the wire; the caller's signal (and its deadline) aborts the job sooner. */
const MIGRATE_CALL_TIMEOUT_MS = 60 * 60_000;

/** A local disk of the instance: its device, its file, its format. */
interface LocalDisk {
  target: string;
  path: string;
  format: string;
}

function localDisks(ctx: DriverContext, l: Loaded): LocalDisk[] {
  const dir = ctx.instanceDir(l.record.uuid);
  const root = rootDiskPath({ instanceDir: dir });
  return l.domain.disks
    .filter((d) => d.source !== undefined && d.source.startsWith(`${dir}/`))
    .map((d) => ({ target: d.target, path: d.source!, format: d.source === root ? instanceDiskFormat(l.record.image.diskFormat) : 'raw' }));
}

/** The migration's parameters (a pure function of its inputs, pinned by a golden test). */
export function liveMigrationParams(dest: Pick<MigrationAddress, 'listen'>, destinationXml: string, persistentXml: string, diskTargets: readonly string[]): TypedParam[] {
  const host = dest.listen.includes(':') ? `[${dest.listen}]` : dest.listen;
  return [
    // No port: the destination takes one from its migration port range (as it does for NBD).
    stringParam(MigrateParam.URI, `tcp://${host}`),
    stringParam(MigrateParam.LISTEN_ADDRESS, dest.listen),
    stringParam(MigrateParam.DEST_XML, destinationXml),
    stringParam(MigrateParam.PERSIST_XML, persistentXml),
    ...diskTargets.map((t) => stringParam(MigrateParam.MIGRATE_DISKS, t)),
  ];
}

/** Blank images of the same format and size for the disks, and the console log so far (the destination's virtlogd appends). */
async function prepareDestinationFiles(ctx: DriverContext, l: Loaded, disks: readonly LocalDisk[], destDir: string): Promise<void> {
  await files.ensureDir(destDir);
  const sourceDir = ctx.instanceDir(l.record.uuid);
  for (const d of disks) {
    const { virtualSize } = await imageInfo(d.path, d.format);
    await createImage(relocatePath(d.path, sourceDir, destDir), d.format, virtualSize);
  }
  const log = consoleLogPath({ instanceDir: sourceDir });
  if (await files.exists(log)) await copyFile(log, consoleLogPath({ instanceDir: destDir }));
}

function relocatePath(path: string, from: string, to: string): string {
  return `${to}${path.slice(from.length)}`;
}

/**
 * Abort the domain's job until the migrate call is over: the job may not have started yet
 * when the signal fires (abortJob then fails with "no job"), so it is asked again.
 */
async function abortWhilePending(ctx: DriverContext, l: Loaded, pending: { done: boolean }): Promise<void> {
  while (!pending.done) {
    try {
      await ctx.client.abortJob(l.ref);
      return;
    } catch {
      await abortableSleep(100).catch(() => undefined);
    }
  }
}

/**
 * Move the running (or paused) instance. On failure libvirt leaves the guest running on the
 * source and removes the incoming domain; the blank images made here are removed too.
 * Resolves when the guest runs on the destination; the source's files are then the caller's to remove.
 */
export async function liveMigrate(ctx: DriverContext, l: Loaded, dest: MigrationAddress, destDir: string, signal: AbortSignal | undefined): Promise<void> {
  const sourceDir = ctx.instanceDir(l.record.uuid);
  const disks = localDisks(ctx, l);
  const [liveXml, inactiveXml] = await Promise.all([
    ctx.client.getXmlDesc(l.ref, XML_MIGRATABLE),
    ctx.client.getXmlDesc(l.ref, XML_MIGRATABLE | Flags.DOMAIN_XML_INACTIVE),
  ]);
  const params = liveMigrationParams(dest, relocateXml(liveXml, sourceDir, destDir), relocateXml(inactiveXml, sourceDir, destDir), disks.map((d) => d.target));
  const pending = { done: false };
  const onAbort = (): void => void abortWhilePending(ctx, l, pending);
  try {
    await prepareDestinationFiles(ctx, l, disks, destDir);
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    await ctx.client.migratePerform3Params(l.ref, dest.daemonUri, params, LIVE_MIGRATION_FLAGS, { timeoutMs: MIGRATE_CALL_TIMEOUT_MS });
  } catch (err) {
    await files.removeTree(destDir).catch(() => undefined);
    throw err;
  } finally {
    pending.done = true;
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Whether a failed migrate call failed because its job was aborted. */
export function wasAborted(err: unknown): boolean {
  return isLibvirtCode(err, VirErr.OPERATION_ABORTED);
}
