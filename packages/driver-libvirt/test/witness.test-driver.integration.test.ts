import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard, type InstanceSpecInput } from '@nova-common/core';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { LibvirtDriverConfigSchema } from '../src/config.js';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { libvirtConformanceFixtures } from '../src/fixtures/conformance-fixtures.js';
import { libvirtWitness } from '../src/witness.js';
import { SOCKET, requireLibvirtd } from './helpers/backend.js';

/** The witness against libvirt's test driver served by libvirtd; a keeper connection holds its state. */
let keeper: LibvirtClient | undefined;
beforeAll(async () => {
  await requireLibvirtd('test:///default');
  keeper = new LibvirtClient({ socketPath: SOCKET, uri: 'test:///default', keepaliveIntervalMs: 0 });
  await keeper.connect();
});
afterAll(async () => {
  await keeper?.close();
});

const spec = (uuid: string): InstanceSpecInput => ({
  uuid,
  name: `witness-${uuid.slice(0, 8)}`,
  flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 64, rootGb: 0 },
  image: { id: 'img', diskFormat: 'raw', containerFormat: 'bare' },
});

describe('the libvirt witness: the domains of this namePrefix, read over a second connection', () => {
  it('lists an instance running, then shut off, and no more once destroyed; another prefix\'s domains are not listed', async () => {
    const config = { uri: 'test:///default', socketPath: SOCKET, namePrefix: 'nc-witness-' };
    const other = { ...config, namePrefix: 'nc-witness-other-' };
    const driver = guard(createLibvirtDriver(config));
    const foreign = guard(createLibvirtDriver(other));
    const witness = libvirtWitness(LibvirtDriverConfigSchema.parse(config));
    await driver.initHost();
    await foreign.initHost();
    const a = randomUUID();
    const b = randomUUID();
    try {
      await driver.spawn(spec(a));
      await foreign.spawn(spec(b));
      expect((await witness.listMachines()).filter((m) => m.uuid === a || m.uuid === b)).toEqual([{ uuid: a, running: true }]);
      await driver.powerOff(a, { gracefulTimeoutMs: 0 });
      expect((await witness.listMachines()).find((m) => m.uuid === a)).toEqual({ uuid: a, running: false });
      await driver.destroy(a);
      expect((await witness.listMachines()).some((m) => m.uuid === a)).toBe(false);
    } finally {
      await driver.destroy(a);
      await foreign.destroy(b);
      await driver.cleanupHost();
      await foreign.cleanupHost();
      await witness.close?.();
    }
  });

  it('is what the manifest\'s conformance fixtures offer', async () => {
    const fixtures = libvirtConformanceFixtures(LibvirtDriverConfigSchema.parse({ uri: 'test:///default', socketPath: SOCKET }));
    try {
      expect(Array.isArray(await fixtures.witness!.listMachines())).toBe(true);
    } finally {
      await fixtures.cleanup?.();
    }
  });
});
