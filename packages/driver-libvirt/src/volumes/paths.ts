import { lstat, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { InputIssue } from '@nova-common/core';
import { covers, isStrictlyInside, matchesDeviceAllowlist, volumeRootProblem } from './rules.js';

/**
 * The host path of a volume, checked against the allowlisted roots before it reaches domain
 * XML. A path is resolved as the kernel would open it: the longest existing prefix through
 * realpath (every symlink and `..` followed), then the parts that do not exist yet appended
 * (a dangling symlink, or a `..` after a missing directory, is refused). The resolved path,
 * never the caller's string, is what the domain is given.
 */

/** What the check needs from the configuration. */
export interface VolumePolicy {
  volumeRoots: readonly string[];
  deviceAllowlist: readonly string[];
  imageDir: string;
  instancesDir: string;
}

/** A path that cannot be resolved safely; its message goes into the INVALID_INPUT issue. */
export class PathRefusal extends Error {}

export interface ResolvedPath {
  path: string;
  exists: boolean;
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'unknown error';
}

async function lexists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

/** `given` resolved through its longest existing prefix (see the module comment). */
export async function resolveHostPath(given: string): Promise<ResolvedPath> {
  if (!path.isAbsolute(given) || given.includes('\0')) throw new PathRefusal('must be an absolute path');
  const parts = given.split('/').filter((p) => p !== '' && p !== '.');
  for (let k = parts.length; k >= 0; k--) {
    let real: string;
    try {
      real = await realpath(`/${parts.slice(0, k).join('/')}`);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') continue;
      throw new PathRefusal(`cannot be resolved on this host (${errorCode(err)})`);
    }
    const tail = parts.slice(k);
    if (tail.length === 0) return { path: real, exists: true };
    // realpath found nothing there: a link that exists is a dangling symlink, followed by whoever creates the file.
    if (await lexists(path.join(real, tail[0]!))) throw new PathRefusal('is or passes through a symbolic link that does not resolve');
    if (tail.includes('..')) throw new PathRefusal('must not hold .. after a directory that does not exist');
    return { path: path.join(real, ...tail), exists: false };
  }
  throw new PathRefusal('cannot be resolved on this host');
}

/** The configured roots as they resolve now, without those that resolve onto host system directories. */
async function resolvedRoots(roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const root of roots) {
    const r = await resolveHostPath(root).catch(() => undefined);
    if (r !== undefined && volumeRootProblem(r.path) === undefined) out.push(r.path);
  }
  return out;
}

async function resolvedOr(p: string): Promise<string> {
  return (await resolveHostPath(p).catch(() => undefined))?.path ?? p;
}

/** Why a resolved path names one of the driver's own files (an instance's disk, an image), or undefined. */
async function ownFileProblem(policy: VolumePolicy, resolved: string): Promise<string | undefined> {
  if (covers(await resolvedOr(policy.instancesDir), resolved)) return 'must not name a file of the instances directory';
  if (path.dirname(resolved) === (await resolvedOr(policy.imageDir))) return 'must not name a file of the image directory';
  return undefined;
}

export type VolumePathCheck = { ok: true; path: string } | { ok: false; issue: InputIssue };

/**
 * Check one volume's host path: a `file` volume must resolve strictly inside a volume root and
 * be a regular file when it exists; a `block` volume inside a volume root or on the device
 * allowlist, and a block device when it exists. `field` names the path in the caller's input.
 */
export async function checkVolumePath(policy: VolumePolicy, kind: 'file' | 'block', given: string, field: (string | number)[]): Promise<VolumePathCheck> {
  const refuse = (message: string): VolumePathCheck => ({ ok: false, issue: { path: field, message } });
  let resolved: ResolvedPath;
  try {
    resolved = await resolveHostPath(given);
  } catch (err) {
    if (err instanceof PathRefusal) return refuse(err.message);
    throw err;
  }
  const roots = await resolvedRoots(policy.volumeRoots);
  const inRoot = roots.some((root) => isStrictlyInside(root, resolved.path));
  if (kind === 'file' && !inRoot) return refuse('resolves outside the allowed volume roots (configuration volumeRoots)');
  if (kind === 'block' && !inRoot && !matchesDeviceAllowlist(policy.deviceAllowlist, resolved.path)) {
    return refuse('resolves outside the allowed volume roots (volumeRoots) and the device allowlist (deviceAllowlist)');
  }
  const own = await ownFileProblem(policy, resolved.path);
  if (own !== undefined) return refuse(own);
  if (resolved.exists) {
    const st = await stat(resolved.path).catch(() => undefined);
    if (kind === 'file' && !st?.isFile()) return refuse('must be a regular file');
    if (kind === 'block' && !st?.isBlockDevice()) return refuse('must be a block device');
  }
  return { ok: true, path: resolved.path };
}
