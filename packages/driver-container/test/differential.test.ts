import { afterAll, describe, expect, it } from 'vitest';
import { describeDifferential } from '@nova-common/conformance/vitest';
import { createReferenceDriver } from '@nova-common/core/testing';
import { CAPABILITY_IDS, type CapabilityId } from '@nova-common/core';
import { EngineClient } from '../src/client/engine-client.js';
import { SOCKET, adaptSpec, images, rawTestDriver, testDriver, volumeConnection } from './helpers.js';

const OWNER = 'differential';

// The capabilities this driver declares missing on every engine (see getCapabilities): the reference is
// configured alike so UNSUPPORTED answers line up.
const MISSING: CapabilityId[] = ['operation.suspend', 'operation.resume', 'operation.rescue', 'operation.extend-volume', 'operation.live-migrate'];

/**
 * The reference driver with this engine's capacity, so placement answers (INSUFFICIENT_RESOURCES) line up too.
 * Read once from the container driver's inventory when the reference is first created.
 */
async function reference() {
  const probe = testDriver(OWNER);
  await probe.initHost();
  const r = (await probe.getInventory()).nodes[0]!.resources;
  const caps = await probe.getCapabilities();
  await probe.cleanupHost();
  const missing = CAPABILITY_IDS.filter((id) => caps.capabilities[id]?.level === 'missing');
  if ([...missing].sort().join() !== [...MISSING].sort().join()) {
    throw new Error(`the container driver's missing capabilities changed: ${missing.join(', ')}`);
  }
  return createReferenceDriver({
    capacity: { vcpus: r['VCPU']!.total, memoryMb: r['MEMORY_MB']!.total, diskGb: Math.max(1, r['DISK_GB']!.total) },
    disabledCapabilities: missing,
  });
}

describeDifferential('@nova-common/driver-container vs the reference driver', { container: () => rawTestDriver(OWNER), reference }, {
  adaptSpec,
  volumeConnection,
  images,
  settleTimeoutMs: 500,
  hangTimeoutMs: 3000,
  timeoutMs: 1_200_000,
});

describe('after the differential run', () => {
  const client = new EngineClient({ socketPath: SOCKET });
  afterAll(async () => {
    await client.close();
  });
  it('left no container of its owner on the engine', async () => {
    const left = await client.listContainers({ label: [`io.nova-common.owner=${OWNER}`] });
    expect(left.map((c) => c.Names[0])).toEqual([]);
  });
});
