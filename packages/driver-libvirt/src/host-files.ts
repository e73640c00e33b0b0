import { closeSync, constants as fsConstants, mkdirSync, openSync, rmSync } from 'node:fs';
import { mkdir, open, rm, stat, statfs, truncate, writeFile, chmod } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { execFile } from 'node:child_process';

/**
 * Files on the libvirt host this driver manages for QEMU/KVM guests: per-instance
 * directories (disks, console log) and image files. Every path is built from validated
 * parts (uuids, image ids checked by `isSafeFileName`) and checked to stay inside its root.
 */

/** An image id usable as a file name: no separators, no leading dot, no control characters. */
export function isSafeFileName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,254}$/.test(name) && name !== '.' && name !== '..';
}

/** `root/child`, refusing anything that would leave `root`. */
export function inside(root: string, child: string): string {
  const r = resolve(root);
  const p = resolve(r, child);
  if (p !== r && !p.startsWith(r + '/')) throw new Error(`path escapes ${root}`);
  return p;
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function ensureDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o755 });
  // QEMU runs as its own user: it must traverse the directory.
  await chmod(path, 0o755);
}

/** A sparse raw file of `sizeMb` MiB. */
export async function sparseFile(path: string, sizeMb: number): Promise<void> {
  await ensureDir(dirname(path));
  await writeFile(path, '', { mode: 0o644 });
  await truncate(path, sizeMb * 1024 * 1024);
}

export async function touch(path: string): Promise<void> {
  await ensureDir(dirname(path));
  const fh = await open(path, 'a', 0o644);
  await fh.close();
}

export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

export async function removeFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

export async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** The last `maxBytes` of a file as text, and whether older output was cut. */
export async function readTail(path: string, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return { text: '', truncated: false };
  }
  try {
    const { size } = await fh.stat();
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    return { text: buf.toString('utf8'), truncated: size > maxBytes };
  } finally {
    await fh.close();
  }
}

/** readTail of `path`, continued into `path.0` (the newest rotated file) when `path` holds less than `maxBytes`. */
export async function readTailRotated(path: string, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  const current = await readTail(path, maxBytes);
  const bytes = Buffer.byteLength(current.text);
  if (current.truncated || bytes >= maxBytes) return current;
  const older = await readTail(`${path}.0`, maxBytes - bytes);
  if (older.text === '' && !older.truncated) return current;
  return { text: older.text + current.text, truncated: older.truncated };
}

/** Size of the filesystem holding `path` (or its nearest existing parent), in GiB. */
export async function filesystemGb(path: string): Promise<number> {
  let p = resolve(path);
  for (;;) {
    try {
      const s = await statfs(p);
      return Math.floor((s.blocks * s.bsize) / 1024 ** 3);
    } catch {
      const parent = dirname(p);
      if (parent === p) return 0;
      p = parent;
    }
  }
}

/**
 * Whether files in `dir` can be opened with O_DIRECT (what QEMU does for cache="none"): a
 * probe file is opened so and removed, as Nova's supports_direct_io. Any failure reads as no.
 */
export function supportsDirectIo(dir: string): boolean {
  const probe = `${resolve(dir)}/.direct-io-probe-${process.pid}`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const fd = openSync(probe, fsConstants.O_CREAT | fsConstants.O_WRONLY | fsConstants.O_DIRECT, 0o600);
    closeSync(fd);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { force: true });
  }
}

/** Copy a directory's contents into `to` (made if missing), keeping holes sparse and modes as they are. */
export async function copyTreeSparse(from: string, to: string): Promise<void> {
  await ensureDir(to);
  await new Promise<void>((res, rej) =>
    execFile('cp', ['-a', '--sparse=always', '--', `${resolve(from)}/.`, resolve(to)], { timeout: 30 * 60_000 }, (err, _o, stderr) =>
      err ? rej(new Error(`cp ${from} failed: ${(stderr || err.message).trim()}`)) : res(),
    ),
  );
}
