import { describe, expect, it } from 'vitest';
import { snapshotReference } from '../src/driver/snapshots.js';

describe('the imageId listSnapshots reports, from the tags each engine lists', () => {
  it('is <repo>:<tag> as snapshot returned it: dockerd lists it so, podman with a registry prefix', () => {
    expect(snapshotReference('nova-snapshot', ['nova-snapshot:default-0123456789abcdef'])).toBe('nova-snapshot:default-0123456789abcdef');
    expect(snapshotReference('nova-snapshot', ['docker.io/library/nova-snapshot:default-0123456789abcdef'])).toBe('nova-snapshot:default-0123456789abcdef');
    expect(snapshotReference('nova-snapshot', ['localhost/nova-snapshot:default-0123456789abcdef'])).toBe('nova-snapshot:default-0123456789abcdef');
  });

  it('is nothing for an untagged image or another repository', () => {
    expect(snapshotReference('nova-snapshot', null)).toBeUndefined();
    expect(snapshotReference('nova-snapshot', [])).toBeUndefined();
    expect(snapshotReference('nova-snapshot', ['nova-state/0a1b2c3d-2222-4333-8444-555555555555:latest'])).toBeUndefined();
    expect(snapshotReference('nova-snapshot', ['other-nova-snapshot:x'])).toBeUndefined();
  });
});
