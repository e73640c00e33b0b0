import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DriverError, VifSchema, type ConnectionInfo, type Vif } from '../src/index.js';
import {
  PlugLoadError,
  PlugSpecSchema,
  connectAll,
  loadDriverPlugs,
  loadPlug,
  plugAll,
  unplugAll,
  type ConnectedVolume,
  type PluggedVif,
  type VifPlugin,
  type VolumeConnector,
} from '../src/plugs/index.js';

const instance = { uuid: '0b7e4d2a-5c1f-4a3e-9d8b-6f2a1c0e9d01' };
const vifOf = (n: number): Vif => VifSchema.parse({ id: `ab0b7c1e-2d3f-4e5a-9b6c-7d8e9f0a1b0${n}`, address: `fa:16:3e:00:00:0${n}`, network: { id: 'n1', bridge: 'br-test' } });

/** A plugin that keeps what is plugged, and refuses the VIFs named in `failOn`. */
function hostPlugin(failOn: Set<string>): VifPlugin & { plugged: Set<string> } {
  const plugged = new Set<string>();
  return {
    plugged,
    name: 'in-memory',
    vifTypes: ['bridge'],
    async plug(vif, inst): Promise<PluggedVif> {
      if (failOn.has(vif.id)) throw new DriverError('BACKEND_UNAVAILABLE', { op: 'plug', target: vif.id });
      plugged.add(vif.id);
      return { vifId: vif.id, instanceUuid: inst.uuid, kind: 'tap', device: `tap${vif.id.slice(-1)}`, address: vif.address };
    },
    async unplug(vif) {
      plugged.delete(vif.id);
    },
    async listPlugged() {
      return [];
    },
  };
}

describe('plugAll / unplugAll', () => {
  it('plugs every VIF in order and answers the devices', async () => {
    const plugin = hostPlugin(new Set());
    const devices = await plugAll(plugin, [vifOf(1), vifOf(2)], instance);
    expect(devices.map((d) => d.device)).toEqual(['tap1', 'tap2']);
    expect([...plugin.plugged]).toHaveLength(2);
  });

  it('a failure unplugs what the call plugged and throws the first error: nothing is left', async () => {
    const plugin = hostPlugin(new Set([vifOf(3).id]));
    const error = await plugAll(plugin, [vifOf(1), vifOf(2), vifOf(3)], instance).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriverError);
    expect((error as DriverError).code).toBe('BACKEND_UNAVAILABLE');
    expect([...plugin.plugged]).toEqual([]);
  });

  it('unplugAll tries every VIF and answers the errors instead of throwing', async () => {
    const plugin = hostPlugin(new Set());
    await plugAll(plugin, [vifOf(1), vifOf(2)], instance);
    const failing: VifPlugin = { ...plugin, unplug: async (vif) => { if (vif.id === vifOf(1).id) throw new Error('busy'); await plugin.unplug(vif, instance); } };
    const errors = await unplugAll(failing, [vifOf(1), vifOf(2)], instance);
    expect(errors).toHaveLength(1);
    expect([...plugin.plugged]).toEqual([vifOf(1).id]);
  });
});

describe('connectAll', () => {
  it('a failed connect disconnects the volumes this call connected', async () => {
    const connected = new Set<string>();
    const connector: VolumeConnector = {
      name: 'in-memory',
      transports: ['file'],
      getConnector: async () => ({ host: 'h', ips: [], multipath: false, platform: 'x86_64', osType: 'linux' }),
      async connect(volumeId, info): Promise<ConnectedVolume> {
        if (volumeId.endsWith('3')) throw new DriverError('BACKEND_UNAVAILABLE', { op: 'connect', target: volumeId });
        connected.add(volumeId);
        return { volumeId, kind: 'file', path: (info as { path: string }).path, sizeBytes: 1 };
      },
      async disconnect(volumeId) {
        connected.delete(volumeId);
      },
      extend: async () => { throw new Error('unused'); },
      listConnected: async () => [],
    };
    const info = (n: number): ConnectionInfo => ({ driverVolumeType: 'file', path: `/srv/v${n}` });
    const ids = [1, 2, 3].map((n) => `5e0c2f4a-1b2c-4d3e-8f9a-0b1c2d3e4f5${n}`);
    const error = await connectAll(connector, ids.map((volumeId, i) => ({ volumeId, connectionInfo: info(i + 1) }))).catch((e: unknown) => e);
    expect((error as DriverError).code).toBe('BACKEND_UNAVAILABLE');
    expect([...connected]).toEqual([]);
    const ok = await connectAll(connector, ids.slice(0, 2).map((volumeId, i) => ({ volumeId, connectionInfo: info(i + 1) })));
    expect(ok.map((c) => c.path)).toEqual(['/srv/v1', '/srv/v2']);
  });
});

describe('PlugSpecSchema and loadPlug', () => {
  it('takes <module>#<factory> and refuses spaces or a bad factory name, naming the field', () => {
    expect(PlugSpecSchema.parse({ use: '@nova-common/plugs#createLinuxBridgeTapPlugin', config: { netns: 'x' } }).use).toContain('#');
    const bad = PlugSpecSchema.safeParse({ use: 'plugs#not a name' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['use']);
  });

  it('loads a plug module from a path, calls its factory with the config, and refuses what is not a plug', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plug-load-'));
    writeFileSync(
      join(dir, 'plug.mjs'),
      `export function make(config) { return { name: 'file ' + config.tag, transports: ['file'], getConnector() {}, connect() {}, disconnect() {}, extend() {}, listConnected() {} }; }
       export function broken() { return { name: 'half' }; }`,
    );
    const connector = await loadPlug('volume', './plug.mjs#make', { tag: 't1' }, dir);
    expect(connector.name).toBe('file t1');
    await expect(loadPlug('volume', './plug.mjs#broken', {}, dir)).rejects.toThrow(PlugLoadError);
    await expect(loadPlug('vif', './plug.mjs#absent', {}, dir)).rejects.toThrow(/exports no function absent/);
  });

  it('loadDriverPlugs: a given object wins over the spec, a spec is loaded, and one that cannot be is INVALID_INPUT naming config.<field>.use', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plug-load-'));
    writeFileSync(join(dir, 'plug.mjs'), `export function make() { return { name: 'file', transports: ['file'], getConnector() {}, connect() {}, disconnect() {}, extend() {}, listConnected() {} }; }`);
    const given = hostPlugin(new Set());
    const plugs = await loadDriverPlugs({ vifPlugin: { use: './absent.mjs#make' }, volumeConnector: { use: './plug.mjs#make' } }, { vifPlugin: given }, dir);
    expect(plugs.vif?.name).toBe('in-memory');
    expect(plugs.volume?.transports).toEqual(['file']);
    const error = await loadDriverPlugs({ volumeConnector: { use: './plug.mjs#absent' } }, {}, dir).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', op: 'initHost', issues: [{ path: ['config', 'volumeConnector', 'use'] }] });
    expect(await loadDriverPlugs({}, {}, dir)).toEqual({});
  });
});
