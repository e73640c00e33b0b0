import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { IronicDriverConfigSchema } from '../../src/config.js';
import { ironicConformanceFixtures } from '../../src/conformance-fixtures.js';
import { ironicWitness } from '../../src/witness.js';
import { ENDPOINTS, guardedTestDriver, requireIronic } from '../helpers/ironic-env.js';
import { IMAGE_SOURCE_TEMPLATE, spec } from '../helpers/specs.js';

const config = IronicDriverConfigSchema.parse({ endpoint: ENDPOINTS.default, nodeFilter: { resourceClass: 'baremetal' }, imageSourceTemplate: IMAGE_SOURCE_TEMPLATE });

describe('the Ironic witness: nodes of the pool holding an instance, read with a second client', () => {
  beforeAll(async () => {
    await requireIronic('default');
  });

  it('lists the deployed instance powered on, and no more once destroy has returned and the node is released', async () => {
    const { driver } = guardedTestDriver('default');
    const witness = ironicWitness(config);
    await driver.initHost();
    const uuid = randomUUID();
    try {
      await driver.spawn(spec({ uuid }));
      expect((await witness.listMachines()).find((m) => m.uuid === uuid)).toEqual({ uuid, running: true });
      await driver.powerOff(uuid, { gracefulTimeoutMs: 0 });
      expect((await witness.listMachines()).find((m) => m.uuid === uuid)).toEqual({ uuid, running: false });
      await driver.destroy(uuid);
      const deadline = Date.now() + 30_000;
      while ((await witness.listMachines()).some((m) => m.uuid === uuid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect((await witness.listMachines()).some((m) => m.uuid === uuid)).toBe(false);
    } finally {
      await driver.destroy(uuid);
      await driver.cleanupHost();
      await witness.close?.();
    }
  }, 120_000);

  it('is what the manifest\'s conformance fixtures offer', async () => {
    const fixtures = await ironicConformanceFixtures(config);
    try {
      expect(Array.isArray(await fixtures.witness!.listMachines())).toBe(true);
    } finally {
      await fixtures.cleanup?.();
    }
  });
});
