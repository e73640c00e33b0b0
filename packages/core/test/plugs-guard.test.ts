import { describe, expect, it } from 'vitest';
import { DriverError } from '../src/index.js';
import { guardVifPlugin, guardVolumeConnector, type VifPlugin, type VolumeConnector } from '../src/plugs/index.js';

const vif = { id: 'AB0B7C1E-2D3F-4E5A-9B6C-7D8E9F0A1B2C', address: 'fa:16:3e:00:00:01', network: { id: 'n1', bridge: 'br-test' } };
const instance = { uuid: '0B7E4D2A-5C1F-4A3E-9D8B-6F2A1C0E9D01' };

function recordingPlugin(answer: (v: { id: string }, i: { uuid: string }) => unknown = (v, i) => ({
  vifId: v.id, instanceUuid: i.uuid, kind: 'tap', device: 'tap1', bridge: 'br-test', address: 'fa:16:3e:00:00:01',
})): VifPlugin & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    name: 'recording',
    vifTypes: ['bridge'],
    async plug(v, i) {
      seen.push(`plug ${v.id} ${i.uuid}`);
      return answer(v, i) as never;
    },
    async unplug(v, i) {
      seen.push(`unplug ${v.id} ${i.uuid}`);
    },
    async listPlugged() {
      return [];
    },
  };
}

const issuePaths = async (p: Promise<unknown>): Promise<string[]> => {
  const e = await p.then(() => undefined, (error: unknown) => error);
  expect(e).toBeInstanceOf(DriverError);
  return ((e as DriverError).issues ?? []).map((i) => i.path.join('.'));
};

describe('guardVifPlugin', () => {
  it('hands the plugin canonical (lower-case) ids and checks what it answers', async () => {
    const raw = recordingPlugin();
    const plugged = await guardVifPlugin(raw).plug(vif, instance);
    expect(raw.seen).toEqual([`plug ${vif.id.toLowerCase()} ${instance.uuid.toLowerCase()}`]);
    expect(plugged.device).toBe('tap1');
  });

  it('refuses a bridge or devname that could be read as an option or shell syntax, naming the field; the plugin sees nothing', async () => {
    const raw = recordingPlugin();
    const g = guardVifPlugin(raw);
    expect(await issuePaths(g.plug({ ...vif, network: { ...vif.network, bridge: 'br;reboot' } }, instance))).toEqual(['vif.network.bridge']);
    expect(await issuePaths(g.plug({ ...vif, devname: '-x' }, instance))).toEqual(['vif.devname']);
    expect(await issuePaths(g.plug({ ...vif, type: 'ovs' }, instance))).toEqual(['vif.type']);
    expect(await issuePaths(g.plug(vif, { uuid: 'nope' }))).toEqual(['instance.uuid']);
    expect(raw.seen).toEqual([]);
  });

  it('an answer for another port, or an invalid device name, is INTERNAL (a contract violation)', async () => {
    const other = guardVifPlugin(recordingPlugin((_v, i) => ({ vifId: '11111111-2222-4333-8444-555555555555', instanceUuid: i.uuid, kind: 'tap', device: 'tap1', address: 'fa:16:3e:00:00:01' })));
    await expect(other.plug(vif, instance)).rejects.toMatchObject({ code: 'INTERNAL' });
    const badName = guardVifPlugin(recordingPlugin((v, i) => ({ vifId: v.id, instanceUuid: i.uuid, kind: 'tap', device: '-tap', address: 'fa:16:3e:00:00:01' })));
    await expect(badName.plug(vif, instance)).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('a plain Error from the plugin is INTERNAL; a cancelled call never reaches it', async () => {
    const raw = recordingPlugin(() => {
      throw new Error('boom');
    });
    await expect(guardVifPlugin(raw).plug(vif, instance)).rejects.toMatchObject({ code: 'INTERNAL', op: 'plug' });
    const aborted = new AbortController();
    aborted.abort();
    const quiet = recordingPlugin();
    await expect(guardVifPlugin(quiet).plug(vif, instance, { signal: aborted.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(quiet.seen).toEqual([]);
  });

  it('calls on one port run one after another', async () => {
    let inside = 0;
    let most = 0;
    const raw = recordingPlugin();
    raw.plug = async (v, i) => {
      inside++;
      most = Math.max(most, inside);
      await new Promise((r) => setTimeout(r, 5));
      inside--;
      return { vifId: v.id, instanceUuid: i.uuid, kind: 'tap', device: 'tap1', address: 'fa:16:3e:00:00:01' };
    };
    const g = guardVifPlugin(raw);
    await Promise.all([g.plug(vif, instance), g.plug(vif, instance), g.plug(vif, instance)]);
    expect(most).toBe(1);
  });
});

describe('guardVolumeConnector', () => {
  const connector: VolumeConnector = {
    name: 'files',
    transports: ['file'],
    getConnector: async () => ({ host: 'h', ips: [], multipath: false, platform: 'x86_64', osType: 'linux' }),
    connect: async (id, info) => ({ volumeId: id, kind: 'file', path: info.driverVolumeType === 'file' ? info.path : '/x', sizeBytes: 1 }),
    disconnect: async () => undefined,
    extend: async (id) => ({ volumeId: id, kind: 'file', path: '/v/a', sizeBytes: 2 }),
    listConnected: async () => [],
  };

  it('refuses an unknown transport, a root path and a bad id, naming the field', async () => {
    const g = guardVolumeConnector(connector);
    const id = '9C3E5A7B-1F2D-4C6E-8A0B-2D4F6A8C0E01';
    expect(await issuePaths(g.connect(id, { driverVolumeType: 'rbd', pool: 'p', image: 'i' }))).toEqual(['connectionInfo.driverVolumeType']);
    expect(await issuePaths(g.connect(id, { driverVolumeType: 'file', path: '/' }))).toEqual(['connectionInfo.path']);
    expect(await issuePaths(g.connect('x', { driverVolumeType: 'file', path: '/v/a' }))).toEqual(['volumeId']);
    expect((await g.connect(id, { driverVolumeType: 'file', path: '/v/a' })).volumeId).toBe(id.toLowerCase());
  });
});
