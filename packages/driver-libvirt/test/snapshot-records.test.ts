import { describe, expect, it } from 'vitest';
import { SNAPSHOT_ID, newSnapshotId, parseSnapshotMeta, sniffDiskFormat } from '../src/mapping/snapshot-records.js';

/** What the driver writes beside its snapshots, and reads back to list them. */

describe('snapshot image ids', () => {
  it('are snapshot-<uuid v7> and sort in the order they were made, also within one millisecond', () => {
    const ids = [newSnapshotId(1_000), newSnapshotId(1_000), newSnapshotId(999), newSnapshotId(2_000), newSnapshotId(2_000)];
    for (const id of ids) {
      expect(id).toMatch(SNAPSHOT_ID);
      expect(id.slice('snapshot-'.length + 14, 'snapshot-'.length + 15)).toBe('7'); // version
      expect('89ab').toContain(id.slice('snapshot-'.length + 19, 'snapshot-'.length + 20)); // variant
    }
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('encode the millisecond in the first 48 bits', () => {
    const id = newSnapshotId(Date.UTC(2030, 0, 1));
    expect(Number.parseInt(id.slice(9, 17) + id.slice(18, 22), 16)).toBe(Date.UTC(2030, 0, 1));
  });
});

describe('snapshot records beside image files', () => {
  const meta = { imageId: 'snapshot-01890a5d-ac96-774b-bcce-b302099a8057', name: 'before upgrade', diskFormat: 'qcow2', containerFormat: 'bare', createdAt: '2026-01-02T03:04:05.678Z', ownerPrefix: 'nova-' };

  it('read back what was written', () => {
    expect(parseSnapshotMeta(JSON.stringify(meta), meta.imageId)).toEqual(meta);
  });

  it.each([
    ['not JSON', 'nope'],
    ['a partial write', JSON.stringify(meta).slice(0, 20)],
    ['another image', JSON.stringify({ ...meta, imageId: 'snapshot-01890a5d-ac96-774b-bcce-000000000000' })],
    ['an unknown field', JSON.stringify({ ...meta, extra: 1 })],
    ['an unknown disk format', JSON.stringify({ ...meta, diskFormat: 'zip' })],
  ])('are refused when they are %s', (_label, text) => {
    expect(parseSnapshotMeta(text, meta.imageId)).toBeUndefined();
  });

  it('tell qcow2 from raw by the magic number', () => {
    expect(sniffDiskFormat(Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]))).toBe('qcow2');
    expect(sniffDiskFormat(Buffer.alloc(4))).toBe('raw');
    expect(sniffDiskFormat(Buffer.alloc(0))).toBe('raw');
  });
});
