import path from 'node:path';

/**
 * Where file volumes and host block devices may come from: the pure rules, shared by the
 * configuration (checked at parse) and by spawn and attachVolume (checked on resolved paths,
 * see ./paths.ts). Paths here are absolute, normalised, and carry no `..` segments.
 */

/** Host directories no volume root may be, cover, or lie inside. */
export const SYSTEM_TREES: readonly string[] = ['/etc', '/usr', '/boot', '/dev', '/proc', '/sys', '/root', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/** Host directories no volume root may be or cover (a directory of its own inside them is fine). */
export const SYSTEM_WHOLES: readonly string[] = ['/', '/var', '/var/lib', '/var/lib/libvirt', '/var/log', '/home', '/tmp', '/var/tmp', '/run', '/opt', '/srv', '/mnt', '/media'];

/** `p` normalised: no duplicate or trailing slashes, no `.` segments. */
export function normalise(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** Whether `root` is `p` or one of its ancestors. */
export function covers(root: string, p: string): boolean {
  const r = normalise(root);
  const q = normalise(p);
  return r === q || r === '/' || q.startsWith(`${r}/`);
}

/** Whether `candidate` lies strictly inside `root` (a file in it, never the root itself). */
export function isStrictlyInside(root: string, candidate: string): boolean {
  return normalise(candidate) !== normalise(root) && covers(root, candidate);
}

/** Why `root` cannot be a volume root (it exposes host system files), or undefined when it can. */
export function volumeRootProblem(root: string): string | undefined {
  for (const dir of SYSTEM_TREES) {
    if (covers(root, dir)) return `must not be or contain the host system directory ${dir}`;
    if (covers(dir, root)) return `must not lie inside the host system directory ${dir}`;
  }
  for (const dir of SYSTEM_WHOLES) {
    if (covers(root, dir)) return `must not be or contain the host directory ${dir} as a whole; use a directory of its own, e.g. /var/lib/libvirt/images/nova-common/volumes`;
  }
  return undefined;
}

/** Why a volume root clashes with the driver's own directories, or undefined. */
export function ownDirectoryProblem(root: string, dirs: { imageDir: string; instancesDir: string }): string | undefined {
  // Every file under instancesDir is some instance's disk or console log.
  if (covers(root, dirs.instancesDir) || covers(dirs.instancesDir, root)) return `must not overlap instancesDir (${dirs.instancesDir})`;
  // Image ids are file names directly in imageDir: a root of its own below it reaches no image.
  if (covers(root, dirs.imageDir)) return `must not be or contain imageDir (${dirs.imageDir})`;
  return undefined;
}

/** Why an entry of the device allowlist is refused, or undefined. */
export function deviceEntryProblem(entry: string): string | undefined {
  const star = entry.indexOf('*');
  if (star !== -1 && star !== entry.length - 1) return 'may hold * only as its last character';
  const fixed = star === -1 ? entry : entry.slice(0, -1);
  if (!fixed.startsWith('/dev/') || fixed.length === '/dev/'.length) return 'must name a device under /dev/ (exactly, or a prefix ending in * like /dev/loop*), not /dev as a whole';
  if (fixed.includes('//') || /\/\.{1,2}(\/|$)/.test(fixed)) return 'must be a normalised path (no //, . or .. segments)';
  return undefined;
}

/** Whether a resolved device path matches one allowlist entry (exact, or a prefix ending in `*`). */
export function matchesDeviceAllowlist(allowlist: readonly string[], device: string): boolean {
  return allowlist.some((entry) => (entry.endsWith('*') ? device.startsWith(entry.slice(0, -1)) : device === entry));
}
