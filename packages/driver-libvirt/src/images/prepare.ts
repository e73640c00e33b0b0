import { chmod } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { InputIssue } from '@nova-common/core';
import * as files from '../host-files.js';
import { VMDK_SINGLE_FILE, diskPlan, sourceFormat, type DiskPlan } from './formats.js';
import * as qemuImg from './qemu-img.js';

/** An image file the driver checked and may turn into an instance disk. */
export interface CheckedImage {
  plan: Exclude<DiskPlan, { kind: 'refuse' }>;
  /** The size the guest sees, in bytes. */
  virtualSize: number;
}

export type Checked = { ok: true; image: CheckedImage } | { ok: false; issue: InputIssue };

const GIB = 1024 ** 3;

/**
 * The wall for an image file (QEMU/KVM): its formats must be ones the driver can hand to QEMU
 * (see formats.ts), and the file must be what its format says, read as that format (never
 * probed), with no backing file, no external data file and, for vmdk, no extents in other
 * files: each of those would make QEMU open a host file the caller named. Issues name the
 * field under `field` (e.g. ['spec', 'image']).
 */
export async function checkImage(path: string, image: { diskFormat: string; containerFormat: string }, field: (string | number)[]): Promise<Checked> {
  const plan = diskPlan(image);
  if (plan.kind === 'refuse') return { ok: false, issue: { path: [...field, plan.field], message: plan.message } };
  let info: qemuImg.ImageInfo;
  try {
    info = await qemuImg.imageInfo(path, sourceFormat(plan));
  } catch (err) {
    return { ok: false, issue: { path: [...field, 'diskFormat'], message: `the image file is not a readable ${image.diskFormat} image (${(err as Error).message.slice(0, 200)})` } };
  }
  if (info.backingFile !== undefined || info.dataFile !== undefined) {
    return { ok: false, issue: { path: [...field, 'id'], message: 'the image refers to another file (backing file or external data file); flatten it first' } };
  }
  if (plan.kind === 'convert' && plan.from === 'vmdk' && (info.createType === undefined || !VMDK_SINGLE_FILE.has(info.createType))) {
    return { ok: false, issue: { path: [...field, 'diskFormat'], message: `vmdk images of create type ${info.createType ?? 'unknown'} are refused (only ${[...VMDK_SINGLE_FILE].join(', ')})` } };
  }
  if (!Number.isSafeInteger(info.virtualSize) || info.virtualSize <= 0) {
    return { ok: false, issue: { path: [...field, 'id'], message: 'the image has no size' } };
  }
  return { ok: true, image: { plan, virtualSize: info.virtualSize } };
}

/**
 * The issue of a root disk `rootGb` cannot hold (the disk is grown, never shrunk); none when
 * rootGb is 0 (the disk keeps the image's size, as in Nova) or the image fits.
 */
export function rootSizeIssue(image: CheckedImage, rootGb: number, minDiskGb: number, field: (string | number)[], what: string): InputIssue | undefined {
  if (rootGb === 0) return undefined;
  if (image.virtualSize > rootGb * GIB) {
    return { path: field, message: `the image's disk (${image.virtualSize} bytes) is bigger than the ${what} root disk of ${rootGb} GiB` };
  }
  if (minDiskGb > rootGb) return { path: field, message: `the image needs a root disk of at least ${minDiskGb} GiB; the ${what} root disk is ${rootGb} GiB` };
  return undefined;
}

/**
 * Make the instance disk `to` from the checked image `from`: a copy (raw, qcow2) or a
 * conversion to raw, then grown to `rootGb` GiB when that is bigger than the image.
 */
export async function makeRootDisk(from: string, to: string, image: CheckedImage, rootGb: number): Promise<void> {
  await files.ensureDir(dirname(to));
  await files.removeFile(to);
  // A copy is qemu-img convert to the same format: sparse, where a file copy would write every zero.
  await qemuImg.convert(from, sourceFormat(image.plan), to, image.plan.format);
  await chmod(to, 0o644);
  const bytes = rootGb * GIB;
  if (bytes > image.virtualSize) await qemuImg.resize(to, image.plan.format, bytes);
}

/** A disk made as-is from an image (the rescue disk): copied or converted, not grown. */
export async function makeImageDisk(from: string, to: string, image: CheckedImage): Promise<void> {
  await makeRootDisk(from, to, image, 0);
}

/** A swap disk: a sparse file of `sizeMb` MiB with a swap signature. */
export async function makeSwapDisk(path: string, sizeMb: number): Promise<void> {
  await files.sparseFile(path, sizeMb);
  await qemuImg.mkswap(path);
}
