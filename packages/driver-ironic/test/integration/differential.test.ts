/**
 * Differential mode: the Ironic driver and the multi-node reference driver run the same
 * generated sequences in lockstep; every step's observable outcome must be the same.
 * The reference gets as many nodes as Ironic has available and the same capabilities missing.
 * NC_RUNS / NC_STEPS / NC_SEED resize the run.
 */
import { describeDifferential } from '@nova-common/conformance/vitest';
import { createReferenceDriver } from '@nova-common/core/testing';
import type { CapabilityId, InstanceSpecInput } from '@nova-common/core';
import { requireIronic, testDriver } from '../helpers/ironic-env.js';
import { adaptSpec, IMAGES } from '../helpers/specs.js';

await requireIronic('default');
const probe = testDriver('default');
await probe.initHost();
const nodes = (await probe.listNodes()).filter((n) => n.available).length;
const missing = Object.entries((await probe.getCapabilities()).capabilities)
  .filter(([, d]) => d.level === 'missing')
  .map(([id]) => id as CapabilityId);
await probe.cleanupHost();

/**
 * Both drivers' nodes must take the flavors: a bare-metal flavor that uses nothing but its node
 * (VCPU/MEMORY_MB/DISK_GB zeroed, no custom class, since the reference's class has another name).
 */
function adaptForBoth(s: InstanceSpecInput): InstanceSpecInput {
  const a = adaptSpec(s);
  const { ['resources:CUSTOM_BAREMETAL']: _custom, ...rest } = (a.flavor.extraSpecs ?? {}) as Record<string, string>;
  return { ...a, flavor: { ...a.flavor, extraSpecs: rest } };
}

describeDifferential(
  'Ironic vs the multi-node reference driver',
  {
    ironic: () => testDriver('default'),
    reference: () => createReferenceDriver({ nodes, disabledCapabilities: missing }),
  },
  {
    adaptSpec: adaptForBoth,
    images: IMAGES,
    runs: Number(process.env.NC_RUNS ?? 4),
    steps: Number(process.env.NC_STEPS ?? 15),
    ...(process.env.NC_SEED ? { seed: Number(process.env.NC_SEED) } : {}),
    maxInstances: 3,
    timeoutMs: 1_800_000,
  },
);
