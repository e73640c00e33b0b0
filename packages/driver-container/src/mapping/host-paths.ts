import path from 'node:path';

/**
 * Which host paths the configuration may hand to instances.
 *
 * `volumeRoot` is the one directory whose files become bind mounts, so it must be a directory of
 * its own: never the host's root, a system directory (or inside one), the engines' storage, nor a
 * directory that holds any of them or a shared tree such as /home or /tmp. `deviceAllowlist` names
 * block devices: entries under /dev only, never a whole disk (the host's own disks are whole disks
 * with their partitions on them), never a wildcard that covers a disk family or a directory.
 */

/** Directories a volume root may neither be, contain, nor lie inside. */
export const SYSTEM_DIRS: readonly string[] = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/sys',
  '/usr',
  '/var/run',
  '/var/lib/docker',
  '/var/lib/containerd',
  '/var/lib/containers',
];

/** Shared trees a volume root may lie inside (a directory of its own there) but may neither be nor contain. */
export const SHARED_DIRS: readonly string[] = ['/home', '/mnt', '/media', '/opt', '/srv', '/tmp', '/var/lib', '/var/log', '/var/spool', '/var/tmp'];

function normalise(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

/** Whether `dir` is `ancestor` or lies below it (both absolute, normalised). */
function within(ancestor: string, dir: string): boolean {
  return dir === ancestor || ancestor === '/' || dir.startsWith(`${ancestor}/`);
}

/**
 * Why `root` (an absolute path) cannot be a volume root, or undefined when it can. `extra` are more
 * protected directories of this host (the engine's own root dir, learned at initHost).
 */
export function unsafeVolumeRootReason(root: string, extra: readonly string[] = []): string | undefined {
  const dir = normalise(root);
  if (dir === '/') return "is the host's root directory: every host file would be a mountable volume";
  for (const sys of [...SYSTEM_DIRS, ...extra.map(normalise)]) {
    if (within(dir, sys)) return `contains the host system directory ${sys} (its files would be mountable volumes)`;
    if (within(sys, dir)) return `lies inside the host system directory ${sys}`;
  }
  for (const shared of SHARED_DIRS) {
    if (within(dir, shared)) return `contains the shared directory ${shared}; use a directory of its own below it (e.g. ${shared}/nova-volumes)`;
  }
  return undefined;
}

/** Disk families: `rest` matches what follows the family name in a whole-disk device name (not a partition). */
interface DiskFamily {
  family: string;
  rest: RegExp;
  /** Whether what follows the family name may still grow into a whole-disk name. */
  restPrefix: RegExp;
  /** Whether an exact entry naming one such device is refused (false: only wildcards over the family are). */
  exactRefused: boolean;
}

const letters = (family: string): DiskFamily => ({ family, rest: /^[a-z]+$/, restPrefix: /^[a-z]*$/, exactRefused: true });
const numbered = (family: string, exactRefused: boolean): DiskFamily => ({ family, rest: /^\d+$/, restPrefix: /^\d*$/, exactRefused });

const DISK_FAMILIES: readonly DiskFamily[] = [
  letters('sd'),
  letters('hd'),
  letters('vd'),
  letters('xvd'),
  { family: 'nvme', rest: /^\d+n\d+$/, restPrefix: /^(\d+(n\d*)?)?$/, exactRefused: true },
  numbered('mmcblk', true),
  numbered('md', true),
  // Device-mapper nodes (LVM volumes, dm-crypt): one named exactly is the operator's choice; all of them include the host's own.
  numbered('dm-', false),
];

/** Why `entry` cannot be in deviceAllowlist, or undefined when it can. */
export function unsafeDeviceEntryReason(entry: string): string | undefined {
  const wildcard = entry.endsWith('*');
  const body = wildcard ? entry.slice(0, -1) : entry;
  if (body.includes('*')) return 'a wildcard may only end an entry (e.g. /dev/loop*)';
  if (!body.startsWith('/dev/')) return 'must name a block device under /dev/ (e.g. /dev/loop3 or /dev/loop*)';
  const name = body.slice('/dev/'.length);
  if (wildcard && (name === '' || name.endsWith('/'))) return `covers every device in ${body} (a wildcard must follow a device name prefix, e.g. /dev/loop*)`;
  if (name === '') return 'must name a block device under /dev/ (e.g. /dev/loop3 or /dev/loop*)';
  if (name.split('/').some((s) => s === '' || s === '.')) return 'must be a normalised path (no empty or . segments)';
  for (const f of DISK_FAMILIES) {
    if (wildcard) {
      const coversFamily = f.family.startsWith(name) || (name.startsWith(f.family) && f.restPrefix.test(name.slice(f.family.length)));
      if (coversFamily) return `covers whole-disk devices (/dev/${f.family}...): the host's own disks among them`;
    } else if (f.exactRefused && name.startsWith(f.family) && f.rest.test(name.slice(f.family.length))) {
      return 'is a whole disk; allow a partition, a loop device or a logical volume instead';
    }
  }
  return undefined;
}
