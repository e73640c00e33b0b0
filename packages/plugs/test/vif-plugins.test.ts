import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVifPluginConformance } from '@nova-common/conformance';
import { createLinuxBridgeTapPlugin, createVethPlugin } from '../src/index.js';
import { makeNamespace, sh, testVif } from '../src/testing/index.js';

// The VIF plugins on the real kernel, inside a network namespace each test makes: the plug
// suite's properties must all pass, and a report line says what each plugin supports here.
for (const [label, create, kind] of [
  ['linux-bridge-tap', createLinuxBridgeTapPlugin, 'tun'],
  ['linux-bridge-veth', createVethPlugin, 'veth'],
] as const) {
  describe(`${label} in a test network namespace`, () => {
    let ns: ReturnType<typeof makeNamespace>;
    beforeAll(() => {
      ns = makeNamespace();
    });
    afterAll(() => ns.remove());

    it('passes every plug property', async () => {
      const plugin = create({ netns: ns.name });
      const result = await runVifPluginConformance({
        plugin,
        vif: (i) => testVif(i, 'ncbr-test'),
        devices: async () => ns.devices(),
        // An operator's tap: a device the plugin did not create, and not a bridge.
        makeForeignDevice: async (name) => {
          sh('ip', ['-n', ns.name, 'tuntap', 'add', 'dev', name, 'mode', 'tap']);
        },
        removeForeignDevice: async (name) => {
          sh('ip', ['-n', ns.name, 'link', 'del', 'dev', name]);
        },
      }, { seed: 42 });
      const failed = result.properties.filter((p) => !p.passed).map((p) => `${p.id}: ${p.detail}`);
      expect(failed).toEqual([]);
      expect(result.properties.map((p) => p.id)).toContain('PLUG-VIF-MODEL');
    });

    it(`plugs a ${kind} device on the bridge with the port's MTU, and removes the bridge it made with its last port`, async () => {
      const plugin = create({ netns: ns.name });
      const vif = testVif(9, 'ncbr-mtu');
      const inst = { uuid: '0b7e4d2a-5c1f-4a3e-9d8b-6f2a1c0e9d01' };
      const plugged = await plugin.plug(vif, inst);
      const link = (JSON.parse(sh('ip', ['-n', ns.name, '-j', '-d', 'link', 'show', 'dev', plugged.device])) as { master?: string; mtu: number; linkinfo?: { info_kind?: string } }[])[0]!;
      expect(link.master).toBe('ncbr-mtu');
      expect(link.mtu).toBe(1450);
      expect(link.linkinfo?.info_kind).toBe(kind);
      if (plugged.peer !== undefined) {
        const peer = (JSON.parse(sh('ip', ['-n', ns.name, '-j', 'link', 'show', 'dev', plugged.peer])) as { address: string }[])[0]!;
        expect(peer.address).toBe(vif.address);
      }
      await plugin.unplug(vif, inst);
      expect(ns.devices()).not.toContain('ncbr-mtu');
      expect(ns.devices()).not.toContain(plugged.device);
    });

    it('never removes a bridge it did not create', async () => {
      sh('ip', ['-n', ns.name, 'link', 'add', 'name', 'ncbr-oper', 'type', 'bridge']);
      const plugin = create({ netns: ns.name });
      const vif = testVif(10, 'ncbr-oper');
      const inst = { uuid: '0b7e4d2a-5c1f-4a3e-9d8b-6f2a1c0e9d02' };
      await plugin.plug(vif, inst);
      await plugin.unplug(vif, inst);
      expect(ns.devices()).toContain('ncbr-oper');
      sh('ip', ['-n', ns.name, 'link', 'del', 'dev', 'ncbr-oper']);
    });
  });
}
