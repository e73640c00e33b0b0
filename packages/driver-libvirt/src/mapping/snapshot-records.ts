import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SnapshotResultSchema } from '@nova-common/core';

/**
 * What the driver writes next to each snapshot it makes, so listSnapshots finds every one on
 * the backend (not in memory) with the name its caller gave, oldest first.
 */

/** Image ids this driver gives its snapshots: `snapshot-<uuid>`. Any other id is not a snapshot of ours. */
export const SNAPSHOT_ID = /^snapshot-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let lastMs = 0;
let seq = 0;

/**
 * A new snapshot image id: `snapshot-` and a UUID version 7 (RFC 9562: 48-bit milliseconds,
 * then a 12-bit counter within the millisecond, then random bits), so ids of one driver
 * process sort in the order they were made; across processes they sort by millisecond.
 */
export function newSnapshotId(now: number = Date.now(), random: (n: number) => Buffer = randomBytes): string {
  let ms = Math.max(now, lastMs);
  if (ms === lastMs) {
    seq++;
    if (seq > 0xfff) {
      ms++;
      seq = 0;
    }
  } else {
    seq = 0;
  }
  lastMs = ms;
  const b = Buffer.alloc(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (seq >> 8);
  b[7] = seq & 0xff;
  random(8).copy(b, 8);
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `snapshot-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The record kept beside a snapshot image file (QEMU/KVM): the result as snapshot returned it,
 * when, and the namePrefix of the driver that made it (drivers with other prefixes sharing the
 * image directory do not list it).
 */
export const SnapshotMetaSchema = SnapshotResultSchema.omit({ sizeBytes: true })
  .extend({ createdAt: z.iso.datetime(), ownerPrefix: z.string() })
  .strict();
export type SnapshotMeta = z.infer<typeof SnapshotMetaSchema>;

/** The record of a snapshot file, or undefined when the text is not one (a file of someone else's, a partial write). */
export function parseSnapshotMeta(text: string, imageId: string): SnapshotMeta | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = SnapshotMetaSchema.safeParse(json);
  return parsed.success && parsed.data.imageId === imageId ? parsed.data : undefined;
}

/** The disk format of an image file from its first bytes: qcow2 has a magic number, anything else is raw. */
export function sniffDiskFormat(head: Buffer): 'qcow2' | 'raw' {
  return head.length >= 4 && head.readUInt32BE(0) === 0x514649fb ? 'qcow2' : 'raw';
}
