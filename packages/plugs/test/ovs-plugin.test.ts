import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVifPluginConformance } from '@nova-common/conformance';
import type { VifInput } from '@nova-common/core';
import type { GuardedVifPlugin } from '@nova-common/core/plugs';
import { createOvsPlugin, OVS_OWNER_KEY } from '../src/index.js';
import { makeNamespace, sh, startOvs, testVif } from '../src/testing/index.js';

// The Open vSwitch plugin on a real Open vSwitch (Debian's openvswitch-switch, user-space datapath)
// that the test starts inside its own network namespace: every plug property must pass, and the
// Interface rows carry the keys an OVS agent binds by.
const ovsVif = (i: number, bridge: string): VifInput => ({ ...testVif(i, bridge), type: 'ovs' });
const INSTANCE = { uuid: '0b7e4d2a-5c1f-4a3e-9d8b-6f2a1c0e9d11' };

describe('ovs plugin on an Open vSwitch in a test network namespace', () => {
  let ns: ReturnType<typeof makeNamespace>;
  let ovs: Awaited<ReturnType<typeof startOvs>>;
  beforeAll(async () => {
    ns = makeNamespace('ovs');
    ovs = await startOvs(ns.name);
  });
  afterAll(async () => {
    await ovs?.stop();
    ns?.remove();
  });

  const fixtures = (plugin: GuardedVifPlugin) => ({
    plugin,
    // The namespace's devices and the switch's ports: a plugin that forgets either is caught.
    devices: async () => [...ns.devices(), ...ovs.ports().map((p) => `ovs:${p}`)],
    makeForeignDevice: async (name: string) => {
      sh('ip', ['-n', ns.name, 'tuntap', 'add', 'dev', name, 'mode', 'tap']);
    },
    removeForeignDevice: async (name: string) => {
      sh('ip', ['-n', ns.name, 'link', 'del', 'dev', name]);
    },
  });

  it('passes every plug property', async () => {
    const plugin = createOvsPlugin({ netns: ns.name, db: ovs.db });
    const result = await runVifPluginConformance({ ...fixtures(plugin), vif: (i) => ovsVif(i, 'ncovs-test') }, { seed: 42 });
    const failed = result.properties.filter((p) => !p.passed).map((p) => `${p.id}: ${p.detail}`);
    expect(failed).toEqual([]);
    expect(result.properties.map((p) => p.id)).toContain('PLUG-VIF-MODEL');
  });

  it('marks the Interface as os-vif does, on a user-space bridge it creates and removes with its last port', async () => {
    const plugin = createOvsPlugin({ netns: ns.name, db: ovs.db });
    const vif = ovsVif(9, 'ncovs-ids');
    const plugged = await plugin.plug(vif, INSTANCE);
    expect(plugged).toMatchObject({ kind: 'tap', bridge: 'ncovs-ids', mtu: 1450 });
    expect(ovs.vsctl(['get', 'Bridge', 'ncovs-ids', 'datapath_type']).trim()).toBe('netdev');
    expect(ovs.vsctl(['port-to-br', plugged.device]).trim()).toBe('ncovs-ids');
    const ids = (key: string): string => {
      // ovs-vsctl quotes a string only when it needs quotes.
      const raw = ovs.vsctl(['get', 'Interface', plugged.device, `external_ids:${key}`]).trim();
      return raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    };
    expect(ids('iface-id')).toBe(vif.id);
    expect(ids('attached-mac')).toBe(vif.address);
    expect(ids('vm-uuid')).toBe(INSTANCE.uuid);
    expect(ids('iface-status')).toBe('active');
    expect(ids(OVS_OWNER_KEY)).toBe(`nova-common:vif:${vif.id}:${INSTANCE.uuid}:${vif.address}`);
    const link = (JSON.parse(sh('ip', ['-n', ns.name, '-j', '-d', 'link', 'show', 'dev', plugged.device])) as { mtu: number; linkinfo?: { info_kind?: string } }[])[0]!;
    expect(link.linkinfo?.info_kind).toBe('tun');
    expect(link.mtu).toBe(1450);
    await plugin.unplug(vif, INSTANCE);
    expect(ovs.vsctl(['list-br']).trim()).toBe('');
    expect(ns.devices()).not.toContain(plugged.device);
  });

  it('never touches a bridge or a port it did not create', async () => {
    ovs.vsctl(['add-br', 'ncovs-oper', '--', 'set', 'Bridge', 'ncovs-oper', 'datapath_type=netdev', '--', 'add-port', 'ncovs-oper', 'operport', '--', 'set', 'Interface', 'operport', 'type=internal']);
    try {
      const plugin = createOvsPlugin({ netns: ns.name, db: ovs.db });
      const vif = ovsVif(10, 'ncovs-oper');
      await expect(plugin.plug({ ...vif, devname: 'operport' }, INSTANCE)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await plugin.plug(vif, INSTANCE);
      await plugin.unplug(vif, INSTANCE);
      await plugin.unplug({ ...vif, devname: 'operport' }, INSTANCE);
      expect(ovs.ports().sort()).toEqual(['ncovs-oper/operport']);
      expect(ns.devices()).toContain('operport');
    } finally {
      ovs.vsctl(['del-br', 'ncovs-oper']);
    }
  });

  it('a new plugin object sees what an earlier one plugged, and makes a lost tap again on a retried plug', async () => {
    const first = createOvsPlugin({ netns: ns.name, db: ovs.db });
    const vif = ovsVif(11, 'ncovs-restart');
    const plugged = await first.plug(vif, INSTANCE);
    const second = createOvsPlugin({ netns: ns.name, db: ovs.db });
    expect((await second.listPlugged()).map((p) => [p.vifId, p.device])).toEqual([[vif.id, plugged.device]]);
    // The tap goes (as after a host restart); the switch's database keeps the port.
    sh('ip', ['-n', ns.name, 'link', 'del', 'dev', plugged.device]);
    expect((await second.plug(vif, INSTANCE)).device).toBe(plugged.device);
    expect(ns.devices()).toContain(plugged.device);
    await second.unplug(vif, INSTANCE);
    expect(await first.listPlugged()).toEqual([]);
    expect(ovs.ports()).toEqual([]);
    expect(ns.devices()).not.toContain(plugged.device);
  });

  it('the suite fails a plugin whose unplug removes the tap but leaves the switch\'s port', async () => {
    const real = createOvsPlugin({ netns: ns.name, db: ovs.db });
    const leaky: GuardedVifPlugin = {
      ...real,
      unplug: async (vif) => {
        const mine = (await real.listPlugged()).find((p) => p.vifId === String(vif.id).toLowerCase());
        if (mine !== undefined && ns.devices().includes(mine.device)) sh('ip', ['-n', ns.name, 'link', 'del', 'dev', mine.device]);
      },
    };
    const result = await runVifPluginConformance({ ...fixtures(leaky), vif: (i) => ovsVif(i, 'ncovs-mut') }, { runs: 2, seed: 7 });
    expect(result.properties.filter((p) => !p.passed).map((p) => p.id)).toContain('PLUG-VIF-IDEMPOTENT');
    for (const p of await real.listPlugged()) await real.unplug(ovsVif(parseInt(p.vifId.slice(0, 2), 16), 'ncovs-mut'), { uuid: p.instanceUuid });
    expect(ovs.ports()).toEqual([]);
  });

  it('answers BACKEND_UNAVAILABLE when no Open vSwitch database answers', async () => {
    const plugin = createOvsPlugin({ netns: ns.name, db: 'unix:/nonexistent/nova-common-ovs.sock', timeoutSeconds: 2 });
    await expect(plugin.plug(ovsVif(12, 'ncovs-none'), INSTANCE)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect(ns.devices()).not.toContain('ncovs-none');
  });
});
