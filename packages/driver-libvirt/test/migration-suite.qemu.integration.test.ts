import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard } from '@nova-common/core';
import { doubledMemory, renderMigrationResults, runMigrationSuite } from '@nova-common/conformance';
import { LibvirtDriverConfigSchema } from '../src/config.js';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { DRIVER_NAME } from '../src/driver-name.js';
import { libvirtWitness } from '../src/witness.js';
import { requireGuest, requireLibvirtd } from './helpers/backend.js';
import { guestSpec, qemuConfig } from './helpers/qemu.js';

/**
 * The contract's two-host properties (P-MIGRATE-*) on two libvirt hosts of this machine (host a:
 * scripts/backends/libvirt.sh, host b: scripts/backends/libvirt-b.sh) with real TCG guests, live and
 * cold, from every state the driver reaches, a resize in place and an evacuation. Each daemon's own domain list (the witness) is read
 * after every step beside the drivers' lists. Both daemons must be up: the test fails loudly otherwise.
 */
const B_SOCKET = '/run/nova-common/libvirt-b/libvirt-sock';
const A_FROM_B = 'qemu+unix:///system?socket=/run/nova-common/libvirt-b/host-a/libvirt-sock';
const PREFIX = 'nvsuite-';
const configA = LibvirtDriverConfigSchema.parse(qemuConfig(PREFIX, { migrationAddress: A_FROM_B }));
const configB = LibvirtDriverConfigSchema.parse(qemuConfig(PREFIX, { socketPath: B_SOCKET, instancesDir: '/var/lib/libvirt/images/nova-common/instances-b' }));
const a = guard(createLibvirtDriver(configA));
const b = guard(createLibvirtDriver(configB));
const witnesses = { a: libvirtWitness(configA), b: libvirtWitness(configB) };

beforeAll(async () => {
  await requireLibvirtd('qemu:///system');
  requireGuest();
  try {
    await b.initHost();
  } catch (err) {
    throw new Error(`host b's libvirtd is not reachable at ${B_SOCKET} (${(err as Error).message}): run scripts/backends/libvirt-b.sh start`);
  }
  await a.initHost();
});

afterAll(async () => {
  await a.cleanupHost();
  await b.cleanupHost();
  await witnesses.a.close?.();
  await witnesses.b.close?.();
});

describe('the two-host migration suite on two libvirt hosts (QEMU/TCG)', () => {
  it('every property passes, resize in place and evacuate included', async () => {
    const results = await runMigrationSuite(
      {
        a,
        b,
        kind: DRIVER_NAME,
        spec: (uuid, salt) => guestSpec({ uuid, name: `suite-${salt}`, metadata: { suite: 'migration', salt: String(salt) } }),
        resizeTo: doubledMemory,
        oversized: { id: 'huge', name: 'huge', vcpus: 1, memoryMb: 16 * 1024 * 1024, rootGb: 1 },
        witnesses,
      },
      { runId: `libvirt-suite-${Date.now()}` },
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
    // LIVE and COLD from every state the driver reaches (RUNNING, SHUTDOWN, PAUSED, SUSPENDED, RESCUE).
    expect(results[0]!.log.filter((l) => l.startsWith('case ')).length).toBe(10);
    // The live copy was read while it ran, with libvirt's job figures (memory and disks sent).
    const progress = results.find((r) => r.id === 'P-MIGRATE-PROGRESS')!.log.join('\n');
    expect(progress).toMatch(/LIVE migrate: (NONEx\d+ )?COPYINGx\d+.*; [1-9]\d* of [1-9]\d* bytes processed/);
  }, 1_200_000);
});
