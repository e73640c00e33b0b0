import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDifferential } from '@nova-common/conformance';
import { createReferenceDriver } from '@nova-common/core/testing';
import type { EngineClient } from '../src/client/engine-client.js';
import { adaptSpec, images, requireEngine, testDriver, volumeConnection } from './helpers.js';

let client: EngineClient;

beforeAll(async () => {
  client = await requireEngine();
});

afterAll(async () => {
  await client?.close();
});

describe('differential: the container driver against the reference driver', () => {
  it('gives the same observable outcome at every step', async () => {
    // The reference gets the same capacity as this engine's host, and declares the same capabilities missing,
    // so placement answers (INSUFFICIENT_RESOURCES) and UNSUPPORTED line up.
    const probe = testDriver('differential');
    await probe.initHost();
    const inventory = (await probe.getInventory()).nodes[0]!.resources;
    const caps = await probe.getCapabilities();
    await probe.cleanupHost();
    const disabled = Object.entries(caps.capabilities)
      .filter(([, d]) => d.level === 'missing')
      .map(([id]) => id);
    const result = await runDifferential({
      drivers: {
        container: () => testDriver('differential'),
        reference: () =>
          createReferenceDriver({
            capacity: { vcpus: inventory['VCPU']!.total, memoryMb: inventory['MEMORY_MB']!.total, diskGb: Math.max(1, inventory['DISK_GB']!.total) },
            disabledCapabilities: disabled as never,
          }),
      },
      runs: Number(process.env['NOVA_DIFFERENTIAL_RUNS'] ?? 10),
      steps: 20,
      adaptSpec,
      volumeConnection,
      images,
      settleTimeoutMs: 500,
      hangTimeoutMs: 3000,
    });
    if (result.divergence) console.error(JSON.stringify(result.divergence, null, 2).slice(0, 20_000));
    expect(result.divergence).toBeUndefined();
    const left = await client.listContainers({ label: ['io.nova-common.owner=differential'] });
    expect(left.map((c) => c.Names[0])).toEqual([]);
  });
});
