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
  async sizeBytes(op: string, device: string, signal?: AbortSignal): Promise<number> {
    return Number((await mustRun(op, 'blockdev', ['--getsize64', device], signal)).trim());
  },
};
