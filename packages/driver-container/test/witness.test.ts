import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineClient } from '../src/client/engine-client.js';
import { ContainerDriverConfigSchema } from '../src/config.js';
import { containerConformanceFixtures } from '../src/conformance-fixtures.js';
import { containerWitness } from '../src/witness.js';
import { SOCKET, STATE_DIR, VOLUME_ROOT, requireEngine, spec, testDriver } from './helpers.js';

const OWNER = 'witness-test';
const config = ContainerDriverConfigSchema.parse({ socketPath: SOCKET, volumeRoot: VOLUME_ROOT, stateDir: STATE_DIR, ownerId: OWNER, stopTimeoutSeconds: 2 });

describe('the container witness: the engine\'s containers of this owner, read without the driver', () => {
  let engine: EngineClient;
  beforeAll(async () => {
    engine = await requireEngine();
  });
  afterAll(async () => {
    // The engine's address pools are few: remove the networks the test's owners got.
    for (const owner of [OWNER, `${OWNER}-other`]) {
      for (const n of await engine.listNetworks({ label: [`io.nova-common.owner=${owner}`] })) await engine.removeNetwork(n.Id);
    }
    await engine?.close();
  });

  it('lists an instance running, then stopped, and no more once destroyed; another owner\'s are not listed', async () => {
    const driver = testDriver(OWNER);
    const other = testDriver(`${OWNER}-other`);
    const witness = containerWitness(config);
    await driver.initHost();
    await other.initHost();
    const a = randomUUID();
    const b = randomUUID();
    try {
      await driver.spawn(spec(a));
      await other.spawn(spec(b));
      const mine = (await witness.listMachines()).filter((m) => m.uuid === a || m.uuid === b);
      expect(mine).toEqual([{ uuid: a, running: true }]);
      await driver.powerOff(a, { gracefulTimeoutMs: 0 });
      expect((await witness.listMachines()).find((m) => m.uuid === a)).toEqual({ uuid: a, running: false });
      await driver.destroy(a);
      expect((await witness.listMachines()).some((m) => m.uuid === a)).toBe(false);
    } finally {
      await driver.destroy(a);
      await other.destroy(b);
      await driver.cleanupHost();
      await other.cleanupHost();
      await witness.close?.();
    }
  });

  it('is what the manifest\'s conformance fixtures offer', async () => {
    const fixtures = containerConformanceFixtures(config);
    try {
      expect(fixtures.witness).toBeDefined();
      expect(Array.isArray(await fixtures.witness!.listMachines())).toBe(true);
    } finally {
      await fixtures.cleanup?.();
    }
  });
});
