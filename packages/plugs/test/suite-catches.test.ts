import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVifPluginConformance, runVolumeConnectorConformance } from '@nova-common/conformance';
import type { GuardedVifPlugin, GuardedVolumeConnector } from '@nova-common/core/plugs';
import { createLinuxBridgeTapPlugin, createLoopConnector } from '../src/index.js';
import { makeNamespace, makeVolumeDirs, sh, testVif, volumeFixtures } from '../src/testing/index.js';

// The plug suite must fail wrong plugs: each planted bug below, on top of a real plug, must
// make the property that guards against it fail.
describe('the plug suite catches wrong plugs', () => {
  let ns: ReturnType<typeof makeNamespace>;
  let dirs: ReturnType<typeof makeVolumeDirs>;
  beforeAll(() => {
    ns = makeNamespace();
    dirs = makeVolumeDirs();
  });
  afterAll(() => {
    ns.remove();
    dirs.remove();
  });

  const vifRun = (plugin: GuardedVifPlugin) =>
    runVifPluginConformance({
      plugin,
      vif: (i) => testVif(i, 'ncbr-mut'),
      devices: async () => ns.devices(),
      makeForeignDevice: async (name) => {
        sh('ip', ['-n', ns.name, 'tuntap', 'add', 'dev', name, 'mode', 'tap']);
      },
      removeForeignDevice: async (name) => {
        sh('ip', ['-n', ns.name, 'link', 'del', 'dev', name]);
      },
    }, { runs: 3, seed: 7 });
  const failedIds = (r: { properties: { id: string; passed: boolean }[] }) => r.properties.filter((p) => !p.passed).map((p) => p.id);

  it('a VIF plugin whose second plug fails instead of answering the same device', async () => {
    const real = createLinuxBridgeTapPlugin({ netns: ns.name });
    const plugged = new Set<string>();
    const plugin: GuardedVifPlugin = {
      ...real,
      plug: async (vif, inst, o) => {
        if (plugged.has(String(vif.id))) throw new Error('already plugged');
        const out = await real.plug(vif, inst, o);
        plugged.add(String(vif.id));
        return out;
      },
      unplug: async (vif, inst, o) => {
        plugged.delete(String(vif.id));
        return real.unplug(vif, inst, o);
      },
    };
    expect(failedIds(await vifRun(plugin))).toContain('PLUG-VIF-IDEMPOTENT');
  });

  it('a VIF plugin whose unplug forgets the device (a leak)', async () => {
    const real = createLinuxBridgeTapPlugin({ netns: ns.name });
    const plugin: GuardedVifPlugin = { ...real, unplug: async () => undefined };
    const r = await vifRun(plugin);
    expect(failedIds(r)).toContain('PLUG-VIF-IDEMPOTENT');
    // Clean up what the leaking plugin left behind, with the real one.
    for (let i = 0; i < 8; i++) for (const uuid of ['6f1c1f5e-9d1a-4c7e-8a55-0c2a3c9e0001', '6f1c1f5e-9d1a-4c7e-8a55-0c2a3c9e0002']) await real.unplug(testVif(i, 'ncbr-mut'), { uuid });
  });

  it('a VIF plugin that plugs a port a second time for another instance', async () => {
    const real = createLinuxBridgeTapPlugin({ netns: ns.name });
    const plugin: GuardedVifPlugin = {
      ...real,
      plug: async (vif, inst, o) => {
        const other = (await real.listPlugged()).find((p) => p.vifId === String(vif.id).toLowerCase() && p.instanceUuid !== inst.uuid.toLowerCase());
        return other === undefined ? real.plug(vif, inst, o) : { ...other, instanceUuid: inst.uuid.toLowerCase() };
      },
    };
    expect(failedIds(await vifRun(plugin))).toContain('PLUG-VIF-OTHER-INSTANCE');
  });

  it('a volume connector whose disconnect leaves the loop device attached', async () => {
    const real = createLoopConnector({ roots: [dirs.root], stateDir: dirs.state });
    const connector: GuardedVolumeConnector = { ...real, disconnect: async () => undefined };
    const r = await runVolumeConnectorConformance({ connector, ...volumeFixtures(dirs) }, { runs: 3, seed: 7 });
    expect(failedIds(r)).toContain('PLUG-VOLUME-IDEMPOTENT');
    for (const c of await real.listConnected()) await real.disconnect(c.volumeId, { driverVolumeType: 'file', path: '/unused' });
    expect(await volumeFixtures(dirs).witness()).toEqual([]);
  });

  it('a volume connector whose extend answers the old size', async () => {
    const real = createLoopConnector({ roots: [dirs.root], stateDir: dirs.state });
    const connector: GuardedVolumeConnector = {
      ...real,
      extend: async (id, info) => ({ ...(await real.connect(id, info)), sizeBytes: 4 * 1024 * 1024 }),
    };
    const r = await runVolumeConnectorConformance({ connector, ...volumeFixtures(dirs) }, { runs: 3, seed: 7 });
    expect(failedIds(r)).toContain('PLUG-VOLUME-EXTEND');
  });
});
