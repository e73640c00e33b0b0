import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { DriverError } from '@nova-common/core';

/**
 * Resolve a volume's file path and check it: it must exist, be a regular file, and lie (after
 * every symbolic link is resolved) inside one of the connector's roots. Anything else is
 * INVALID_INPUT naming `connectionInfo.path`, and nothing is touched.
 */
export async function volumeFile(op: string, volumeId: string, path: string, roots: readonly string[]): Promise<{ path: string; sizeBytes: number }> {
  const refuse = (message: string): DriverError =>
    new DriverError('INVALID_INPUT', { op, target: volumeId, issues: [{ path: ['connectionInfo', 'path'], message }] });
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw refuse('does not exist on this host');
  }
  const realRoots = await Promise.all(roots.map((r) => realpath(r).catch(() => undefined)));
  const inside = realRoots.some((root) => {
    if (root === undefined) return false;
    const rel = relative(root, real);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  });
  if (!inside) throw refuse(`is outside the volume roots this connector may use (${roots.join(', ')})`);
  const info = await stat(real);
  if (!info.isFile()) throw refuse('is not a regular file');
  return { path: real, sizeBytes: info.size };
}
