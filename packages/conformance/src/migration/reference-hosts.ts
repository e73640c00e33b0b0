import { guard } from '@nova-common/core';
import { createReferenceBackend, referenceManifest } from '@nova-common/core/testing';
import type { MigrationHosts } from './hosts.js';

/**
 * Two fresh reference hosts shaped like another pair: the same specs, resize and oversized
 * flavor, so a differential run compares the two pairs call for call. Each host has the
 * reference backend's default capacity and its own witness.
 */
export function referenceMigrationHosts(like: Pick<MigrationHosts, 'spec' | 'resizeTo' | 'oversized'>): MigrationHosts {
  const a = createReferenceBackend();
  const b = createReferenceBackend();
  return {
    a: guard(a.createDriver()),
    b: guard(b.createDriver()),
    kind: referenceManifest.name,
    spec: like.spec,
    resizeTo: like.resizeTo,
    oversized: like.oversized,
    witnesses: { a: a.witness, b: b.witness },
  };
}
