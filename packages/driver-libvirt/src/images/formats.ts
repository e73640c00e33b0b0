/**
 * What the driver does with each image format the contract's schema accepts (Glance's
 * disk_format and container_format), decided once here and pinned by test/images.test.ts:
 *
 * - `raw` and `qcow2` are copied as they are and handed to QEMU in their own format;
 * - `vmdk`, `vdi`, `vhd` and `vhdx` are converted to raw with `qemu-img convert` (as Nova's
 *   force_raw_images does), so QEMU reads a plain raw disk;
 * - `iso` (a bootable CD, which Nova attaches as a cdrom beside a blank root disk), `ploop`
 *   (Virtuozzo containers), and `aki`, `ari`, `ami` (kernel, ramdisk and a machine image that needs
 *   both, which the contract's image carries no ids for) are refused at the wall;
 * - container formats other than `bare` and `ovf` (a descriptor Nova's libvirt driver ignores) are
 *   archives or foreign payloads (`ova`, `docker`, `compressed`, `aki`, `ari`, `ami`): refused.
 */

/** How the image becomes the instance's disk. */
export type DiskPlan =
  | { kind: 'copy'; format: 'qcow2' | 'raw' }
  | { kind: 'convert'; from: 'vmdk' | 'vdi' | 'vpc' | 'vhdx'; format: 'raw' }
  | { kind: 'refuse'; field: 'diskFormat' | 'containerFormat'; message: string };

/** qemu-img's name of each convertible disk format (vhd is qemu's `vpc`). */
const CONVERTIBLE: Record<string, 'vmdk' | 'vdi' | 'vpc' | 'vhdx'> = { vmdk: 'vmdk', vdi: 'vdi', vhd: 'vpc', vhdx: 'vhdx' };

const REFUSED_DISK: Record<string, string> = {
  iso: 'iso images (boot from a CD) are not supported by this driver: convert the image to raw or qcow2',
  ploop: 'ploop images (Virtuozzo) cannot be read by QEMU: convert the image to raw or qcow2',
  aki: 'a kernel image (aki) is not a bootable disk',
  ari: 'a ramdisk image (ari) is not a bootable disk',
  ami: 'an ami image needs a separate kernel and ramdisk, which this driver does not take: convert the image to raw or qcow2',
};

const ACCEPTED_CONTAINERS = new Set(['bare', 'ovf']);

export function diskPlan(image: { diskFormat: string; containerFormat: string }): DiskPlan {
  if (!ACCEPTED_CONTAINERS.has(image.containerFormat)) {
    return { kind: 'refuse', field: 'containerFormat', message: `container format ${image.containerFormat} is not supported by this driver (bare or ovf only)` };
  }
  if (image.diskFormat === 'raw' || image.diskFormat === 'qcow2') return { kind: 'copy', format: image.diskFormat };
  const from = CONVERTIBLE[image.diskFormat];
  if (from !== undefined) return { kind: 'convert', from, format: 'raw' };
  return { kind: 'refuse', field: 'diskFormat', message: REFUSED_DISK[image.diskFormat] ?? `disk format ${image.diskFormat} is not supported by this driver` };
}

/** The format of the instance's disk made from an image of `diskFormat`: what QEMU is told it reads. */
export function instanceDiskFormat(diskFormat: string): 'qcow2' | 'raw' {
  return diskFormat === 'qcow2' ? 'qcow2' : 'raw';
}

/** The format qemu-img is told the image file has (never probed: a raw image could carry a qcow2 header). */
export function sourceFormat(plan: Exclude<DiskPlan, { kind: 'refuse' }>): string {
  return plan.kind === 'copy' ? plan.format : plan.from;
}

/** vmdk subformats that keep their data in the one file (others point at extent files anywhere on the host). */
export const VMDK_SINGLE_FILE = new Set(['monolithicSparse', 'streamOptimized']);
