import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import { DriverError } from '@nova-common/core';
import { mustRun } from './run-command.js';

const ListSchema = z.object({ loopdevices: z.array(z.looseObject({ name: z.string(), 'back-file': z.string().nullable().optional() })) });

/** Loop block devices through util-linux's losetup and blockdev. Paths reaching it are real, absolute and checked. */
export const losetup = {
  /** Every loop device and the file behind it. */
  async list(op: string, signal?: AbortSignal): Promise<{ device: string; backing: string | undefined }[]> {
    const out = await mustRun(op, 'losetup', ['--json', '--list'], signal);
    if (out.trim() === '') return [];
    const parsed = ListSchema.safeParse(JSON.parse(out));
    if (!parsed.success) throw new DriverError('INTERNAL', { op, detail: `losetup --json answered an unexpected shape: ${parsed.error.message}` });
    // The kernel appends " (deleted)" to a backing file removed while attached.
    return parsed.data.loopdevices.map((d) => ({ device: d.name, backing: d['back-file']?.replace(/ \(deleted\)$/, '') ?? undefined }));
  },
  async attach(op: string, file: string, signal?: AbortSignal): Promise<string> {
    const device = (await mustRun(op, 'losetup', ['--find', '--show', '--', file], signal)).trim();
    if (!/^\/dev\/loop\d+$/.test(device)) throw new DriverError('INTERNAL', { op, detail: `losetup answered ${JSON.stringify(device)}` });
    return device;
  },
  async detach(op: string, device: string, signal?: AbortSignal): Promise<void> {
    await mustRun(op, 'losetup', ['--detach', device], signal);
  },
  /** Make the loop device re-read its file's size. */
  async refresh(op: string, device: string, signal?: AbortSignal): Promise<void> {
    await mustRun(op, 'losetup', ['--set-capacity', device], signal);
  },
  /**
   * The file behind one loop device, undefined when the device backs none. Read from sysfs, where
   * losetup itself reads it: one file read instead of a process listing every loop device.
   */
  async backingOf(op: string, device: string): Promise<string | undefined> {
    const text = await readSysfs(op, device, 'loop/backing_file');
    return text === undefined ? undefined : text.trimEnd().replace(/ \(deleted\)$/, '');
  },
  /** The device's size as the kernel now sees it (sysfs counts 512-byte sectors, as blockdev --getsize64 reads them). */
  async sizeBytes(op: string, device: string): Promise<number> {
    const sectors = await readSysfs(op, device, 'size');
    if (sectors === undefined || !/^\d+$/.test(sectors.trim())) throw new DriverError('INTERNAL', { op, detail: `no size for ${device} in sysfs` });
    return Number(sectors.trim()) * 512;
  },
};

/** A loop device's sysfs attribute (`/sys/block/loopN/<attribute>`); undefined when it is absent. */
async function readSysfs(op: string, device: string, attribute: string): Promise<string | undefined> {
  const name = basename(device);
  if (!/^loop\d+$/.test(name)) throw new DriverError('INTERNAL', { op, detail: `${device} is not a loop device` });
  try {
    return await readFile(`/sys/block/${name}/${attribute}`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DriverError('BACKEND_UNAVAILABLE', { op, detail: `cannot read /sys/block/${name}/${attribute}: ${(error as Error).message}`, cause: error });
  }
}
