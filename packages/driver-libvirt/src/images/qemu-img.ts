import { execFile } from 'node:child_process';

/**
 * qemu-img and mkswap, run with argument arrays (execFile, never a shell) on paths the driver
 * built from validated parts. The image's format is always given (`-f`): qemu-img never probes it.
 */

const TIMEOUT_MS = 10 * 60_000;
const INFO_TIMEOUT_MS = 60_000;

function run(file: string, args: string[], timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout, maxBuffer: 4 * 1024 * 1024, env: { PATH: `${process.env['PATH'] ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      const what = file === 'prlimit' ? 'qemu-img info' : `${file} ${args[0] ?? ''}`;
      if (err) reject(new Error(`${what} failed: ${(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}

/** What `qemu-img info` says of an image file read as `format`. */
export interface ImageInfo {
  virtualSize: number;
  backingFile?: string;
  dataFile?: string;
  /** vmdk only: its create type (monolithicSparse, twoGbMaxExtentFlat, ...). */
  createType?: string;
}

/** Limits on `qemu-img info` of a caller's image (Nova's QEMU_IMG_LIMITS): 1 GiB of address space, 30 s of CPU. */
const INFO_LIMITS = ['--as=1073741824', '--cpu=30'];

export async function imageInfo(path: string, format: string): Promise<ImageInfo> {
  const out = await run('prlimit', [...INFO_LIMITS, '--', 'qemu-img', 'info', '-U', '-f', format, '--output=json', path], INFO_TIMEOUT_MS);
  const j = JSON.parse(out) as Record<string, unknown>;
  const specific = (j['format-specific'] as { data?: Record<string, unknown> } | undefined)?.data ?? {};
  const backing = j['backing-filename'] ?? j['full-backing-filename'];
  return {
    virtualSize: Number(j['virtual-size']),
    ...(typeof backing === 'string' ? { backingFile: backing } : {}),
    ...(typeof specific['data-file'] === 'string' ? { dataFile: specific['data-file'] } : {}),
    ...(typeof specific['create-type'] === 'string' ? { createType: specific['create-type'] } : {}),
  };
}

/**
 * Convert (or copy, with the same format on both sides) an image; holes and zeroes stay sparse,
 * where a plain file copy would write every byte of a grown disk. `-U` reads an image QEMU holds
 * open (a paused guest's disk, for a snapshot).
 */
export async function convert(from: string, fromFormat: string, to: string, toFormat: string): Promise<void> {
  await run('qemu-img', ['convert', '-U', '-f', fromFormat, '-O', toFormat, from, to], TIMEOUT_MS);
}

/**
 * Grow the image to `bytes` (the caller checked it is not a shrink), or with `shrink` take it
 * back to a size it had before a grow (a rolled back resize: only the grown tail goes).
 */
export async function resize(path: string, format: string, bytes: number, o: { shrink?: boolean } = {}): Promise<void> {
  await run('qemu-img', ['resize', ...(o.shrink ? ['--shrink'] : []), '-f', format, path, String(bytes)], TIMEOUT_MS);
}

/** Write a swap signature on a file, as the guest's swapon expects. */
export async function mkswap(path: string): Promise<void> {
  await run('mkswap', [path], INFO_TIMEOUT_MS);
}

/** A blank image of `bytes` (a live migration's destination disk, filled by the source's copy). */
export async function create(path: string, format: string, bytes: number): Promise<void> {
  await run('qemu-img', ['create', '-q', '-f', format, path, String(bytes)], TIMEOUT_MS);
}
