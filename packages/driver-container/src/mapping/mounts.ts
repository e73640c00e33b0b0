import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { DriverError, type InputIssue } from '@nova-common/core';
import type { ConnectionInfo } from './contract-types.js';
import type { DeviceMapping, MountSpec } from '../client/types.js';
import { unsafeVolumeRootReason } from './host-paths.js';
import type { StoredVolume } from './labels.js';

/**
 * Volumes -> bind mounts and devices, only from the allowlisted host root.
 *
 * The path from the connection info is resolved with realpath (every symlink followed),
 * and the resolved path must lie strictly inside realpath(volumeRoot), or, for block
 * devices, match the device allowlist. The engine is then given the resolved path, never
 * the caller's string, so a symlink in the request cannot point the mount elsewhere.
 */
export interface VolumePolicy {
  volumeRoot: string;
  deviceAllowlist: readonly string[];
  /** More directories of this host no volume root may touch (the engine's root dir). */
  protectedDirs?: readonly string[];
}

/** Whether `candidate` (an absolute, resolved path) lies strictly inside `root` (also resolved). */
export function isStrictlyInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel !== '' && !path.isAbsolute(rel) && !rel.split(path.sep).includes('..');
}

/** Whether a resolved device path matches one allowlist entry (exact, or a prefix ending in `*`). */
export function matchesDeviceAllowlist(allowlist: readonly string[], device: string): boolean {
  return allowlist.some((entry) => (entry.endsWith('*') ? device.startsWith(entry.slice(0, -1)) : device === entry));
}

function refuse(fieldPath: (string | number)[], message: string, op: string): DriverError {
  const issue: InputIssue = { path: fieldPath, message };
  return new DriverError('INVALID_INPUT', { op, issues: [issue] });
}

export interface ResolvedVolume {
  kind: 'file' | 'block';
  /** The resolved host path. */
  source: string;
}

/**
 * Resolve a volume's connection info against the policy. `fieldPath` names the connection
 * info in the caller's input, for the INVALID_INPUT issue.
 */
export async function resolveVolume(
  policy: VolumePolicy,
  conn: ConnectionInfo,
  fieldPath: (string | number)[],
  op: string,
): Promise<ResolvedVolume> {
  if (conn.driverVolumeType !== 'file' && conn.driverVolumeType !== 'block') {
    throw refuse([...fieldPath, 'driverVolumeType'], `transport ${conn.driverVolumeType} is not supported (file and block are)`, op);
  }
  const given = conn.driverVolumeType === 'file' ? conn.path : conn.devicePath;
  const field = [...fieldPath, conn.driverVolumeType === 'file' ? 'path' : 'devicePath'];
  if (!path.isAbsolute(given) || given.split('/').includes('..') || given.includes('\0')) {
    throw refuse(field, 'must be an absolute path without .. segments', op);
  }
  if (path.posix.normalize(given) === '/') {
    throw refuse(field, `is the host's root directory, not a ${conn.driverVolumeType === 'file' ? 'file' : 'block device'} inside the volume root`, op);
  }
  let root: string;
  try {
    root = await realpath(policy.volumeRoot);
  } catch {
    throw refuse(field, `the volume root ${policy.volumeRoot} does not exist on this host`, op);
  }
  // The configuration was checked as written; a symlink on the way could still lead the root elsewhere.
  const unsafe = unsafeVolumeRootReason(root, policy.protectedDirs);
  if (unsafe !== undefined) throw refuse(['config', 'volumeRoot'], `resolves to ${root}, which ${unsafe}`, op);
  let resolved: string;
  try {
    resolved = await realpath(given);
  } catch {
    throw refuse(field, 'does not exist on this host', op);
  }
  const inside = isStrictlyInside(root, resolved);
  if (conn.driverVolumeType === 'file') {
    if (!inside) throw refuse(field, 'resolves outside the allowlisted volume root', op);
    const st = await stat(resolved).catch(() => undefined);
    if (!st?.isFile()) throw refuse(field, 'must be a regular file', op);
    return { kind: 'file', source: resolved };
  }
  if (!inside && !matchesDeviceAllowlist(policy.deviceAllowlist, resolved)) {
    throw refuse(field, 'resolves outside the allowlisted volume root and device allowlist', op);
  }
  const st = await stat(resolved).catch(() => undefined);
  if (!st?.isBlockDevice()) throw refuse(field, 'must be a block device', op);
  return { kind: 'block', source: resolved };
}

/** Where the container sees a volume. */
export function volumeTarget(kind: 'file' | 'block', volumeId: string): string {
  return kind === 'file' ? `/volumes/${volumeId.toLowerCase()}` : `/dev/nova-vol-${volumeId.toLowerCase()}`;
}

/** The mounts and device mappings of a set of recorded volumes. */
export function mountsOf(volumes: readonly StoredVolume[]): { mounts: MountSpec[]; devices: DeviceMapping[] } {
  const mounts: MountSpec[] = [];
  const devices: DeviceMapping[] = [];
  for (const v of volumes) {
    if (v.kind === 'file') mounts.push({ Type: 'bind', Source: v.source, Target: v.target, ReadOnly: false });
    else devices.push({ PathOnHost: v.source, PathInContainer: v.target, CgroupPermissions: 'rwm' });
  }
  return { mounts, devices };
}

/**
 * The paths inside a container where something is mounted or a device is mapped, read from an inspect.
 * dockerd reports bind mounts in `HostConfig.Mounts` (Target) and in `Mounts` (Destination); podman 4.3
 * reports only `Mounts` (its `HostConfig` carries `Binds` strings instead). Devices: `PathInContainer`
 * (podman's `PathOnHost` names whatever host node has the same major:minor, so it is not read).
 */
export function mountedTargets(inspect: {
  HostConfig: { Mounts?: readonly { Target: string }[] | null; Devices?: readonly { PathInContainer: string }[] | null };
  Mounts?: readonly { Destination: string }[] | null;
}): Set<string> {
  return new Set<string>([
    ...(inspect.HostConfig.Mounts ?? []).map((m) => m.Target),
    ...(inspect.Mounts ?? []).map((m) => m.Destination),
    ...(inspect.HostConfig.Devices ?? []).map((d) => d.PathInContainer),
  ]);
}
