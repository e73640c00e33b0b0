import { join } from 'node:path';
import { runVifPluginConformance, runVolumeConnectorConformance } from '@nova-common/conformance';
import { createFileConnector, createLinuxBridgeTapPlugin, createLoopConnector, createVethPlugin } from '@nova-common/plugs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRemoteVifPlugin, openRemoteVolumeConnector } from '../../src/client/remote-plugs.js';
import { makeNamespace, sh, testVif, volumeFixtures } from '../helpers/plugs.js';
import { serveReference, tempDir } from '../helpers/serve.js';

// The plug suite on the remote plugs, each calling a real plug behind an agent: every property
// the plug passes in process (packages/plugs/test) it passes through the wire, so the wall adds
// no divergence. The plugs run in a network namespace and on files the test makes.
for (const [label, create] of [
  ['linux-bridge-tap', createLinuxBridgeTapPlugin],
  ['linux-bridge-veth', createVethPlugin],
] as const) {
  describe(`${label} through the agent`, () => {
    let ns: ReturnType<typeof makeNamespace>;
    beforeAll(() => {
      ns = makeNamespace('agent');
    });
    afterAll(() => ns.remove());

    it('passes every VIF plug property over the network role’s socket', async () => {
      const served = await serveReference({}, { roles: ['network'], agent: { vifPlugin: create({ netns: ns.name }) } });
      const plugin = await openRemoteVifPlugin({ endpoint: `unix://${served.socket('network')}` });
      try {
        const result = await runVifPluginConformance(
          {
            plugin,
            vif: (i) => testVif(i, 'ncbr-suite'),
            devices: async () => ns.devices(),
            makeForeignDevice: async (name) => {
              sh('ip', ['-n', ns.name, 'tuntap', 'add', 'dev', name, 'mode', 'tap']);
            },
            removeForeignDevice: async (name) => {
              sh('ip', ['-n', ns.name, 'link', 'del', 'dev', name]);
            },
          },
          { seed: 42 },
        );
        const failed = result.properties.filter((p) => !p.passed).map((p) => `${p.id}: ${p.detail}`);
        expect(failed).toStrictEqual([]);
        expect(result.properties.map((p) => p.id)).toContain('PLUG-VIF-MODEL');
      } finally {
        plugin.close();
        await served.close();
      }
    });
  });
}

for (const [label, create] of [
  ['file', createFileConnector],
  ['loop', createLoopConnector],
] as const) {
  describe(`${label} connector through the agent`, () => {
    let dirs: { dir: string; remove: () => void };
    beforeAll(() => {
      dirs = tempDir('nova-agent-plug-suite-');
    });
    afterAll(() => dirs.remove());

    it('passes every volume plug property over the volume role’s socket', async () => {
      const root = join(dirs.dir, 'volumes');
      const fx = volumeFixtures({ root, outside: join(dirs.dir, 'elsewhere') });
      const served = await serveReference({}, { roles: ['volume'], agent: { volumeConnector: create({ roots: [root], stateDir: join(dirs.dir, 'state') }) } });
      const connector = await openRemoteVolumeConnector({ endpoint: `unix://${served.socket('volume')}` });
      try {
        const result = await runVolumeConnectorConformance({ connector, ...fx }, { seed: 42 });
        const failed = result.properties.filter((p) => !p.passed).map((p) => `${p.id}: ${p.detail}`);
        expect(failed).toStrictEqual([]);
        expect(result.properties.map((p) => p.id)).toContain('PLUG-VOLUME-MODEL');
        expect(await fx.witness()).toStrictEqual([]);
      } finally {
        connector.close();
        await served.close();
      }
    });
  });
}
