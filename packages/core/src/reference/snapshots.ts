import { randomUUID } from 'node:crypto';
import type { SnapshotResult } from '../schemas/outputs.js';
import type { InstanceRecord } from './instance.js';

/** The images the reference driver's snapshots made, by image id: what listSnapshots reports. */
export class SnapshotStore {
  private readonly images = new Map<string, { readonly result: SnapshotResult; readonly sourceUuid: string }>();

  /** A new image of `record`'s disk named `name` (its image's format, a fresh id). */
  take(record: InstanceRecord, name: string): SnapshotResult {
    const result: SnapshotResult = {
      imageId: randomUUID(),
      name,
      diskFormat: record.image.diskFormat,
      containerFormat: 'bare',
      ...(record.image.sizeBytes !== undefined ? { sizeBytes: record.image.sizeBytes } : {}),
    };
    this.images.set(result.imageId, { result, sourceUuid: record.uuid });
    return { ...result };
  }

  /** Deleting an image that is not there is a no-op. */
  delete(imageId: string): void {
    this.images.delete(imageId);
  }

  list(): SnapshotResult[] {
    return [...this.images.values()].map((s) => ({ ...s.result }));
  }
}
