import { afterAll, beforeAll } from 'vitest';
import { describeConformance, describeDifferential } from '@nova-common/conformance/vitest';
import { createReferenceDriver } from '@nova-common/core/testing';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { LibvirtDriverConfigSchema } from '../src/config.js';
import { libvirtWitness } from '../src/witness.js';
import { SOCKET, requireLibvirtd } from './helpers/backend.js';

/**
 * The conformance suite against libvirt's test driver served by libvirtd (the default run),
 * and differential mode against the reference driver. A keeper connection holds the test
 * driver's state for the whole file (libvirtd drops it when the last connection closes).
 */
let keeper: LibvirtClient | undefined;

beforeAll(async () => {
  await requireLibvirtd('test:///default');
  keeper = new LibvirtClient({ socketPath: SOCKET, uri: 'test:///default', keepaliveIntervalMs: 0 });
  await keeper.connect();
});

// libvirtd seen without the driver: leaks and ghosts fail P-BACKEND-WITNESS; with it P-RESTART runs too.
const witness = libvirtWitness(LibvirtDriverConfigSchema.parse({ uri: 'test:///default', socketPath: SOCKET }));

afterAll(async () => {
  await witness.close?.();
  await keeper?.close();
});

const libvirt = () => createLibvirtDriver({ uri: 'test:///default', socketPath: SOCKET });

describeConformance('driver-libvirt on libvirt test driver', libvirt, { witness });

// The reference driver sized like the test driver's node (16 CPUs, 3 GiB with 512 MiB reserved, same ratios; and a fixed 200 GiB disk on both),
// so both accept and refuse the same flavors.
describeDifferential('driver-libvirt vs reference', {
  libvirt: () => createLibvirtDriver({ uri: 'test:///default', socketPath: SOCKET, diskTotalGb: 200 }),
  reference: () =>
    createReferenceDriver({
      capacity: { vcpus: 16, memoryMb: 3072, reservedMemoryMb: 512, diskGb: 200, cpuAllocationRatio: 4, ramAllocationRatio: 1, diskAllocationRatio: 1 },
      disabledCapabilities: [
        'operation.attach-volume', 'operation.detach-volume', 'operation.extend-volume', 'operation.attach-interface', 'operation.detach-interface', 'console.serial.log', 'operation.list-snapshots',
        // The test driver cannot migrate (QEMU only).
        'operation.migrate', 'operation.live-migrate', 'operation.resize-in-place', 'operation.evacuate',
      ],
    }),
});
