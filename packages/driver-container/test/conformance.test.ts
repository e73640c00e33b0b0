import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConformance } from '@nova-common/conformance';
import type { InstanceSpecInput } from '@nova-common/core';
import type { EngineClient } from '../src/client/engine-client.js';
import { BASE_IMAGE, VOLUME_ROOT, requireEngine, testDriver } from './helpers.js';

let client: EngineClient;

beforeAll(async () => {
  client = await requireEngine();
});

afterAll(async () => {
  await client?.close();
});

/** Generated specs use image ids the engine does not have: run them all on the local base image. */
export function adaptSpec(spec: InstanceSpecInput): InstanceSpecInput {
  return { ...spec, image: { ...spec.image, id: BASE_IMAGE } };
}

/** A generated volume id becomes a real file under the allowlisted root. */
export function volumeConnection(volumeId: string) {
  const p = path.join(VOLUME_ROOT, `conformance-${volumeId}.img`);
  writeFileSync(p, Buffer.alloc(4096));
  return { driverVolumeType: 'file' as const, path: p };
}

export const images = [{ id: BASE_IMAGE, name: 'busybox', diskFormat: 'raw' as const, containerFormat: 'docker' as const }];

describe('conformance default run against dockerd', () => {
  it('passes every property the driver declares, and verifies UNSUPPORTED for the rest', async () => {
    const result = await runConformance({
      driver: () => testDriver('conformance'),
      name: '@nova-common/driver-container',
      runs: Number(process.env['NOVA_CONFORMANCE_RUNS'] ?? 5),
      steps: 15,
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
