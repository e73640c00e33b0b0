import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { guard } from '@nova-common/core';
import { createContainerDriver } from '../src/driver/driver.js';
import { networkName } from '../src/mapping/networks.js';
import { fakeEngine } from './fake-engine.js';

const uuid = '0a1b2c3d-2222-4333-8444-555555555555';
const naming = { namePrefix: 'nova', labelPrefix: 'io.nova-common', ownerId: 'unit' };

describe('a network made for a connect the engine then refuses', () => {
  it.each(['docker', 'podman'] as const)('%s: attachInterface fails, and the network it made is removed again', async (kind) => {
    const engine = await fakeEngine(kind, uuid);
    const stateDir = mkdtempSync(path.join(tmpdir(), 'nova-unit-state-'));
    const driver = guard(createContainerDriver({ socketPath: engine.socketPath, ownerId: 'unit', stateDir }));
    try {
      await driver.initHost();
      engine.calls.length = 0;
      const name = networkName(naming, 'refused-net');
      engine.failConnect = { message: 'failed to add the endpoint' };
      await expect(
        driver.attachInterface(uuid, { id: '1a1b2c3d-2222-4333-8444-555555555555', address: 'fa:16:3e:00:00:01', network: { id: 'refused-net' } }),
      ).rejects.toMatchObject({ code: 'INTERNAL' });
      const networkCalls = engine.calls.filter((c) => c.includes('/networks')).map((c) => c.replace(/ \{.*$/, ''));
      expect(networkCalls).toEqual([
        `GET /networks/${name}`,
        'POST /networks/create',
        // After creating, the networks of that name are listed: a racing process may have made one too.
        'GET /networks',
        `POST /networks/${name}/connect`,
        `GET /networks/${name}`,
        `DELETE /networks/${name}`,
      ]);
      expect(engine.networks.has(name)).toBe(false);
      expect(engine.networks.has('nova-unit-base')).toBe(true);
    } finally {
      await driver.cleanupHost();
      await engine.close();
    }
  });
});
