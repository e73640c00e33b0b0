import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVolumeConnectorConformance } from '@nova-common/conformance';
import { createFileConnector, createLoopConnector } from '../src/index.js';
import { makeVolumeDirs, volumeFixtures } from '../src/testing/index.js';

// The volume connectors on the real host (loop devices through losetup), on files in a
// directory each test makes: every plug property must pass.
for (const [label, create, kind] of [
  ['file', createFileConnector, 'file'],
  ['loop', createLoopConnector, 'block'],
] as const) {
  describe(`${label} connector`, () => {
    let dirs: ReturnType<typeof makeVolumeDirs>;
    beforeAll(() => {
      dirs = makeVolumeDirs();
    });
    afterAll(() => dirs.remove());

    it('passes every plug property', async () => {
      const connector = create({ roots: [dirs.root], stateDir: dirs.state });
      const result = await runVolumeConnectorConformance({ connector, ...volumeFixtures(dirs) }, { seed: 42 });
      const failed = result.properties.filter((p) => !p.passed).map((p) => `${p.id}: ${p.detail}`);
      expect(failed).toEqual([]);
    });

    it(`connects a volume as a ${kind}, and a new connector object on the same state sees and disconnects it`, async () => {
      const fx = volumeFixtures(dirs);
      const v = await fx.makeVolume(12, 2 * 1024 * 1024);
      const first = create({ roots: [dirs.root], stateDir: dirs.state });
      const connected = await first.connect(v.volumeId, v.connectionInfo);
      expect(connected.kind).toBe(kind);
      if (kind === 'block') expect(connected.path).toMatch(/^\/dev\/loop\d+$/);
      const second = create({ roots: [dirs.root], stateDir: dirs.state });
      expect((await second.listConnected()).map((c) => c.volumeId)).toEqual([v.volumeId]);
      await second.disconnect(v.volumeId, v.connectionInfo);
      expect(await fx.witness()).toEqual([]);
      expect(await first.listConnected()).toEqual([]);
    });
  });
}
