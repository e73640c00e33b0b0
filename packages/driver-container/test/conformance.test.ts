import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConformance } from '@nova-common/conformance';
import type { EngineClient } from '../src/client/engine-client.js';
import { adaptSpec, images, requireEngine, testDriver, volumeConnection } from './helpers.js';

let client: EngineClient;

beforeAll(async () => {
  client = await requireEngine();
});

afterAll(async () => {
  await client?.close();
});

describe('conformance default run (20 runs x 25 steps) against dockerd', () => {
  it('passes every property the driver declares, and verifies UNSUPPORTED for the rest', async () => {
    const result = await runConformance({
      driver: () => testDriver('conformance'),
      name: '@nova-common/driver-container',
      adaptSpec,
      volumeConnection,
      images,
      settleTimeoutMs: 500,
      // A real spawn takes a few hundred ms: the injected-hang timeout must be longer than that.
      hangTimeoutMs: 3000,
    });
    const failed = result.properties.filter((p) => p.status === 'failed');
    if (failed.length > 0) console.error(JSON.stringify(failed, null, 2).slice(0, 20_000));
    expect(failed.map((p) => p.id)).toEqual([]);
    const left = await client.listContainers({ label: ['io.nova-common.owner=conformance'] });
    expect(left.map((c) => c.Names[0])).toEqual([]);
  });
});
