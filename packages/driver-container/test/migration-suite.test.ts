import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard } from '@nova-common/core';
import { doubledMemory, renderMigrationResults, runMigrationSuite } from '@nova-common/conformance';
import { ContainerDriverConfigSchema } from '../src/config.js';
import { createContainerDriver } from '../src/driver/driver.js';
import { containerWitness } from '../src/witness.js';
import { DRIVER_NAME } from '../src/driver-name.js';
import { SOCKET, requireEngine, spec } from './helpers.js';
import { PODMAN_SOCKET, requirePodman } from './podman/helpers.js';

// The contract's two-host properties (P-MIGRATE-*) on the two real engines of this host: dockerd is
// host A, podman host B. Both must be up: the test fails loudly otherwise. Each backend's witness
// (its own list of this owner's containers) is read after every step beside the drivers' lists.

const VOLUME_ROOT = '/tmp/nova-common/migration-suite/volumes';
const config = (socketPath: string, engine: string) =>
  ContainerDriverConfigSchema.parse({
    socketPath,
    volumeRoot: VOLUME_ROOT,
    stateDir: `/tmp/nova-common/migration-suite/state-${engine}`,
    ownerId: 'migration-suite',
    stopTimeoutSeconds: 2,
  });
const a = config(SOCKET, 'docker');
const b = config(PODMAN_SOCKET, 'podman');
const witnesses = { a: containerWitness(a), b: containerWitness(b) };

beforeAll(async () => {
  await (await requireEngine()).close();
  await (await requirePodman()).close();
  mkdirSync(VOLUME_ROOT, { recursive: true });
});

afterAll(async () => {
  await witnesses.a.close?.();
  await witnesses.b.close?.();
});

describe('the two-host migration suite on dockerd (A) and podman (B)', () => {
  it('every property that applies passes, evacuate among them; live migration is declared missing', async () => {
    const hostA = guard(createContainerDriver(a));
    const hostB = guard(createContainerDriver(b));
    await hostA.initHost();
    await hostB.initHost();
    try {
      const results = await runMigrationSuite(
        {
          a: hostA,
          b: hostB,
          kind: DRIVER_NAME,
          spec: (uuid, salt) => spec(uuid, { name: `suite-${salt}`, metadata: { suite: 'migration', salt: String(salt) } }),
          resizeTo: doubledMemory,
          oversized: { id: 'huge', name: 'huge', vcpus: 1024, memoryMb: 16 * 1024 * 1024, rootGb: 1 },
          witnesses,
        },
        { runId: `container-suite-${Date.now()}` },
      );
      console.log(renderMigrationResults(results));
      expect(results.filter((r) => r.status === 'failed'), renderMigrationResults(results)).toEqual([]);
      expect(results.map((r) => [r.id, r.status])).toEqual([
        ['P-MIGRATE-STATES', 'passed'],
        ['P-MIGRATE-REFUSALS', 'passed'],
        ['P-MIGRATE-ROUND-TRIP', 'passed'],
        ['P-MIGRATE-PROGRESS', 'passed'],
        ['P-MIGRATE-IN-PLACE', 'passed'],
        ['P-MIGRATE-EVACUATE', 'passed'],
      ]);
      // The cold copy was read while it ran: the image streamed from save into the destination's load.
      const progress = results.find((r) => r.id === 'P-MIGRATE-PROGRESS')!.log.join('\n');
      expect(progress).toMatch(/COLD migrate: (NONEx\d+ )?COPYINGx\d+.*; [1-9]\d* of \? bytes processed/);
    } finally {
      await hostA.cleanupHost();
      await hostB.cleanupHost();
    }
  }, 600_000);
});
