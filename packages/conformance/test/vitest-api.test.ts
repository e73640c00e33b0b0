import { createReferenceDriver } from '@nova-common/core/testing';
import { describeConformance, describeDifferential } from '../src/vitest.js';

// The library as driver authors use it: one test per applicable property.
describeConformance('reference driver', () => createReferenceDriver(), { seed: 4242, runs: 10 });
describeConformance('reference driver without lifecycle events', () => createReferenceDriver({ disabledCapabilities: ['event.lifecycle', 'operation.rescue'] }), {
  seed: 11,
  runs: 10,
});
describeDifferential('two reference drivers agree', { one: () => createReferenceDriver(), other: () => createReferenceDriver({ nodes: 1 }) }, { seed: 3, runs: 10 });
