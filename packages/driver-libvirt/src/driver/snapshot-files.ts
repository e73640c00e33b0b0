import { chmod, open, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import type { SnapshotResult } from '@nova-common/core';
import { DomainState } from '../client/protocol/remote-types.js';
import { rootDiskPath } from '../mapping/domain-xml.js';
import { SNAPSHOT_ID, parseSnapshotMeta, sniffDiskFormat, type SnapshotMeta } from '../mapping/snapshot-records.js';
import * as files from '../host-files.js';
import { instanceDiskFormat } from '../images/formats.js';
import { convert } from '../images/qemu-img.js';
import type { DriverContext } from './context.js';
import type { Loaded } from './instances.js';

/**
 * Snapshots on QEMU/KVM: a cold-consistent copy of the root disk becomes an image file in
 * imageDir, named by its image id, with `<imageId>.meta.json` beside it (the caller's name,
 * formats, creation time). The copy is written under a hidden partial name and renamed last,
 * after its record: an image id in imageDir is always a complete snapshot with its record.
 */

const META_SUFFIX = '.meta.json';

function imagePath(ctx: DriverContext, imageId: string): string {
  return files.inside(ctx.config.imageDir, imageId);
}

function metaPath(ctx: DriverContext, imageId: string): string {
  return files.inside(ctx.config.imageDir, `${imageId}${META_SUFFIX}`);
}

/** Copy the root disk (vCPUs paused around the copy of a running guest) and record it; returns the result. */
export async function writeSnapshotImage(ctx: DriverContext, l: Loaded, meta: Omit<SnapshotMeta, 'createdAt' | 'ownerPrefix'>): Promise<SnapshotResult> {
  const running = l.state === DomainState.RUNNING || l.state === DomainState.BLOCKED;
  const partial = files.inside(ctx.config.imageDir, `.${meta.imageId}.partial`);
  const final = imagePath(ctx, meta.imageId);
  try {
    if (running) await ctx.client.suspend(l.ref);
    try {
      // Sparse: the root disk is grown to the flavor's size, mostly holes a file copy would fill with zeroes.
      const format = instanceDiskFormat(l.record.image.diskFormat);
      await convert(rootDiskPath({ instanceDir: ctx.instanceDir(l.record.uuid) }), format, partial, format);
      await chmod(partial, 0o644);
    } finally {
      if (running) await ctx.client.resume(l.ref);
    }
    const record: SnapshotMeta = { ...meta, createdAt: new Date().toISOString(), ownerPrefix: ctx.config.namePrefix };
    await writeFile(`${metaPath(ctx, meta.imageId)}.tmp`, JSON.stringify(record), { mode: 0o644 });
    await rename(`${metaPath(ctx, meta.imageId)}.tmp`, metaPath(ctx, meta.imageId));
    await rename(partial, final);
  } catch (err) {
    await Promise.all([files.removeFile(partial), files.removeFile(metaPath(ctx, meta.imageId)), files.removeFile(`${metaPath(ctx, meta.imageId)}.tmp`)]);
    throw err;
  }
  const size = await files.fileSize(final);
  return { imageId: meta.imageId, name: meta.name, diskFormat: meta.diskFormat, containerFormat: meta.containerFormat, ...(size !== undefined ? { sizeBytes: size } : {}) };
}

/** Remove a snapshot image of this driver and its record; fine when they are gone, left alone when another prefix made it. */
export async function removeSnapshotImage(ctx: DriverContext, imageId: string): Promise<void> {
  const meta = parseSnapshotMeta(await readFile(metaPath(ctx, imageId), 'utf8').catch(() => ''), imageId);
  if (meta && meta.ownerPrefix !== ctx.config.namePrefix) return;
  await files.removeFile(imagePath(ctx, imageId));
  await files.removeFile(metaPath(ctx, imageId));
}

async function readHead(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * The snapshot images in imageDir this driver made (its namePrefix in the record), oldest
 * first. An image without a record (made before records were kept) is still reported: its id
 * as its name, its format read from the file, its age from the file's time.
 */
export async function listSnapshotImages(ctx: DriverContext): Promise<SnapshotResult[]> {
  let names: string[];
  try {
    names = await readdir(ctx.config.imageDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const found = await Promise.all(
    names.filter((n) => SNAPSHOT_ID.test(n)).map(async (imageId) => {
      let st;
      try {
        st = await stat(imagePath(ctx, imageId));
      } catch {
        return undefined; // deleted meanwhile
      }
      const meta = parseSnapshotMeta(await readFile(metaPath(ctx, imageId), 'utf8').catch(() => ''), imageId);
      const base: SnapshotMeta = meta ?? {
        imageId,
        name: imageId,
        diskFormat: sniffDiskFormat(await readHead(imagePath(ctx, imageId)).catch(() => Buffer.alloc(0))),
        containerFormat: 'bare',
        createdAt: st.mtime.toISOString(),
        ownerPrefix: ctx.config.namePrefix,
      };
      return base.ownerPrefix === ctx.config.namePrefix ? { base, size: st.size } : undefined;
    }),
  );
  return found
    .filter((f): f is NonNullable<typeof f> => f !== undefined)
    .sort((a, b) => (a.base.createdAt < b.base.createdAt ? -1 : a.base.createdAt > b.base.createdAt ? 1 : a.base.imageId < b.base.imageId ? -1 : 1))
    .map(({ base, size }) => ({ imageId: base.imageId, name: base.name, diskFormat: base.diskFormat, containerFormat: base.containerFormat, sizeBytes: size }));
}
