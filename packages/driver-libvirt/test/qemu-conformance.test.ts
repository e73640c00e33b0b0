import { afterAll, beforeAll } from 'vitest';
import { describeConformance } from '@nova-common/conformance/vitest';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { LibvirtDriverConfigSchema } from '../src/config.js';
import { libvirtConformanceFixtures } from '../src/fixtures/conformance-fixtures.js';
import { INITRD, KERNEL, SOCKET, requireGuest, requireLibvirtd } from './helpers/backend.js';

/**
 * The conformance suite on real QEMU/TCG guests (each spawn is a real qemu process, each
 * graceful power off waits for the guest's ACPI handler): the table walk, which visits every
 * cell of the table (168 here), then a few short generated sequences, with the crash hook (a
 * killed QEMU) reaching CRASHED and libvirtd as the witness. About 3 minutes.
 */
const config = LibvirtDriverConfigSchema.parse({
  uri: 'qemu:///system',
  socketPath: SOCKET,
  kernel: KERNEL,
  initrd: INITRD,
  // Guests are often still booting when the suite powers them off: do not wait a minute for ACPI.
  acpiShutdownTimeoutMs: 3_000,
  softRebootTimeoutMs: 3_000,
});
const fixtures = libvirtConformanceFixtures(config);

beforeAll(async () => {
  await requireLibvirtd('qemu:///system');
  requireGuest();
});

afterAll(async () => {
  await fixtures.cleanup?.();
});

describeConformance('driver-libvirt on QEMU (TCG)', () => createLibvirtDriver(config), {
  runs: 3,
  steps: 8,
  maxInstances: 2,
  hangTimeoutMs: 10_000,
  timeoutMs: 900_000,
  ...(fixtures.adaptSpec ? { adaptSpec: fixtures.adaptSpec } : {}),
  ...(fixtures.volumeConnection ? { volumeConnection: fixtures.volumeConnection } : {}),
  ...(fixtures.images ? { images: fixtures.images } : {}),
  // libvirtd seen without the driver: leaks and ghosts fail P-BACKEND-WITNESS; with it P-RESTART runs too.
  ...(fixtures.witness ? { witness: fixtures.witness } : {}),
  // A killed QEMU process (the backend's crash hook) takes sequences into the CRASHED row.
  ...(fixtures.backend?.crash ? { simulate: { crash: (_driver: unknown, uuid: string) => fixtures.backend!.crash!(uuid) } } : {}),
});
