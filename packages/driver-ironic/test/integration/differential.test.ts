/**
 * Differential mode: the Ironic driver and the multi-node reference driver run the same
 * generated sequences in lockstep; every step's observable outcome must be the same.
 * NC_RUNS / NC_STEPS / NC_SEED override the sizes.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { runDifferential } from '@nova-common/conformance';
import { createReferenceDriver } from '@nova-common/core/testing';
import type { CapabilityId, InstanceSpecInput } from '@nova-common/core';
import { requireIronic, testDriver } from '../helpers/ironic-env.js';
import { adaptSpec, IMAGES } from '../helpers/specs.js';

const runs = Number(process.env.NC_RUNS ?? 4);
const steps = Number(process.env.NC_STEPS ?? 15);
const seed = process.env.NC_SEED ? Number(process.env.NC_SEED) : undefined;

beforeAll(async () => {
  await requireIronic('default');
});

/** Bare-metal flavors use nothing but their node: zero VCPU/MEMORY_MB/DISK_GB fits both drivers' nodes. */
function adaptForDifferential(s: InstanceSpecInput): InstanceSpecInput {
  const a = adaptSpec(s);
  const { ['resources:CUSTOM_BAREMETAL']: _custom, ...rest } = (a.flavor.extraSpecs ?? {}) as Record<string, string>;
  return { ...a, flavor: { ...a.flavor, extraSpecs: rest } };
}

describe('differential: Ironic vs the multi-node reference driver', () => {
  it('gives the same observable outcome at every step', { timeout: 1_800_000 }, async () => {
    const probe = testDriver('default');
    await probe.initHost();
    const nodes = (await probe.listNodes()).filter((n) => n.available).length;
    const caps = await probe.getCapabilities();
    await probe.cleanupHost();
    const missing = Object.entries(caps.capabilities)
      .filter(([, d]) => d.level === 'missing')
      .map(([id]) => id as CapabilityId);
    const result = await runDifferential({
      drivers: {
        ironic: () => testDriver('default'),
        reference: () => createReferenceDriver({ nodes, disabledCapabilities: missing }),
      },
      adaptSpec: adaptForDifferential,
      images: IMAGES,
      runs,
      steps,
      seed,
      maxInstances: 3,
    });
    expect(JSON.stringify(result.divergence ?? null, null, 1).slice(0, 4000)).toBe('null');
    expect(result.runs).toBeGreaterThan(0);
  });
});
