import { constants } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { errors, type CallOptions } from '@nova-common/core';
import type { VolumeRecord } from '../mapping/instance-record.js';
import { isActive } from '../mapping/state.js';
import type { DriverContext } from './context.js';
import { requireHypervisor, saveRecord, withVolume } from './devices.js';

const GIB = 1024n * 1024n * 1024n;

/** The size of a host block device, from sysfs (`/sys/dev/block/<major>:<minor>/size`, in 512-byte sectors). */
async function blockDeviceBytes(path: string): Promise<bigint> {
  const s = await stat(path, { bigint: true });
  if (!s.isBlockDevice()) throw new Error(`${path} is not a block device`);
  // glibc's gnu_dev_major / gnu_dev_minor.
  const major = ((s.rdev >> 8n) & 0xfffn) | ((s.rdev >> 32n) & ~0xfffn);
  const minor = (s.rdev & 0xffn) | ((s.rdev >> 12n) & ~0xffn);
  const sectors = (await readFile(`/sys/dev/block/${major}:${minor}/size`, 'utf8')).trim();
  return BigInt(sectors) * 512n;
}

/** The size the host sees now: a file's length, a block device's capacity. */
async function hostBytes(kind: VolumeRecord['source'], path: string): Promise<bigint> {
  return kind === 'block' ? blockDeviceBytes(path) : (await stat(path, { bigint: true })).size;
}

/**
 * Grow a volume file of a stopped guest to `bytes` (what QEMU's block_resize does to a running
 * one). O_NOFOLLOW: the path was checked at attach; a symlink put there since is not followed.
 */
async function growFile(path: string, bytes: bigint): Promise<void> {
  const fh = await open(path, constants.O_WRONLY | constants.O_NOFOLLOW);
  try {
    await fh.truncate(Number(bytes));
  } finally {
    await fh.close();
  }
}

/**
 * extendVolume (QEMU/KVM): the guest's disk of the volume grows to `newSizeGb`, as Nova's
 * extend_volume does after the volume service grew the volume.
 * - A running or paused guest: libvirt's block resize. QEMU grows a file-backed volume itself;
 *   a block device must already be that large.
 * - Not with a volume connector (UNSUPPORTED, declared missing): its volumes are the volume
 *   service's to grow (a loop device's backing file, an iSCSI LUN) before the connector's
 *   extend rescans them, and the contract has no step in which the caller says it did.
 * - A stopped guest (SHUTDOWN, CRASHED): the file is grown here, a block device is checked; the
 *   guest sees the size when it boots.
 * Volumes only grow: a size below the recorded one, or below what the host already has, is
 * INVALID_INPUT naming `newSizeGb` (after the state and device checks, as the table orders).
 * The record keeps the new size, reported by getInfo.
 */
export async function extendVolume(ctx: DriverContext, uuid: string, volumeId: string, newSizeGb: number, options?: CallOptions): Promise<void> {
  const op = 'extendVolume';
  requireHypervisor(ctx, op, 'operation.extend-volume');
  if (ctx.plugs.volume !== undefined) throw errors.unsupported('operation.extend-volume', op);
  const id = volumeId.toLowerCase();
  const bytes = BigInt(newSizeGb) * GIB;
  const tooSmall = (message: string) => errors.invalidInput([{ path: ['newSizeGb'], message }], op);
  await withVolume(ctx, op, uuid, id, options, async (l) => {
    const r = l.record;
    const v = r.volumes.find((x) => x.id === id)!;
    if (v.sizeGb !== undefined && newSizeGb < v.sizeGb) throw tooSmall(`must not be smaller than the current size (${v.sizeGb} GiB): volumes only grow`);
    const { source: kind, path } = v;
    const now = await hostBytes(kind, path);
    if (bytes < now) throw tooSmall(`must not be smaller than the volume's size on the host (${now} bytes): volumes only grow`);
    if (kind === 'block' && bytes > now) throw tooSmall(`the block device ${path} holds ${now} bytes: grow the volume on its backend first`);
    if (isActive(l.state)) await ctx.client.blockResize(l.ref, v.target, bytes, options?.signal ? { signal: options.signal } : undefined);
    else if (kind === 'file' && bytes > now) await growFile(path, bytes);
    v.sizeGb = newSizeGb;
    await saveRecord(ctx, l, r);
  });
}
