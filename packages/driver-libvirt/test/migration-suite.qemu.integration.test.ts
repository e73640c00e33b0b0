import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doubledMemory, renderMigrationResults, runMigrationSuite } from '@nova-common/conformance';
import { DRIVER_NAME } from '../src/driver-name.js';
import { guestSpec } from './helpers/qemu.js';
import { twoLibvirtHosts } from './helpers/two-hosts.js';

/**
 * The contract's two-host properties (P-MIGRATE-*) on two libvirt hosts of this machine (host a:
 * scripts/backends/libvirt.sh, host b: scripts/backends/libvirt-b.sh) with real TCG guests, live and
 * cold, from every state the driver reaches, a resize in place and an evacuation. Each daemon's own domain list (the witness) is read
 * after every step beside the drivers' lists. Both daemons must be up: the test fails loudly otherwise.
 */
const PREFIX = 'nvsuite-';
const hosts = twoLibvirtHosts(PREFIX);
const { a, b, witnesses } = hosts;

beforeAll(() => hosts.start());
afterAll(() => hosts.stop());

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
