import { statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { isDriverError } from '@nova-common/core';
import { guardVolumeConnector, PLUG_CONTRACT_VERSION } from '@nova-common/core/plugs';
import { createFileConnector, createVethPlugin } from '@nova-common/plugs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRemoteVifPlugin, openRemoteVolumeConnector, type RemoteVifPlugin, type RemoteVolumeConnector } from '../../src/client/remote-plugs.js';
import { connectionInfoToProto } from '../../src/mapping/block-device-info.js';
import { vifToProto } from '../../src/mapping/network-info.js';
import { makeNamespace, rawPlugCall, recordingVif, recordingVolume, testVif, volumeFixtures } from '../helpers/plugs.js';
import { serveReference, tempDir, type Served } from '../helpers/serve.js';
import { checkHealth, reflect } from '../helpers/standard-clients.js';
import type { Role } from '../../src/server/roles.js';

const INSTANCE = { uuid: '0b7e4d2a-5c1f-4a3e-9d8b-6f2a1c0e9d01', name: 'through-the-wall' };
const MIB = 1024 * 1024;

/** What a call rejected with, as a DriverError's code and its issues' paths. */
async function failure(p: Promise<unknown>): Promise<{ code: string; paths: string[]; message: string }> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isDriverError(error)) throw new Error(`expected a DriverError, got ${String(error)}`);
  return { code: error.code, paths: (error.issues ?? []).map((i) => i.path.join('.')), message: error.message };
}

// The agent serves the real veth plugin (in a network namespace the test makes) and the real
// file connector (in a temporary directory); the remote plugs call them through the wire.
describe('the plug services: real plugs behind the agent, remote plugs in front', () => {
  let served: Served;
  let ns: ReturnType<typeof makeNamespace>;
  let dirs: { dir: string; remove: () => void };
  let fx: ReturnType<typeof volumeFixtures>;
  const vifCalls: string[] = [];
  const volumeCalls: string[] = [];
  const remotes: (RemoteVifPlugin | RemoteVolumeConnector)[] = [];
  const endpoint = (role: Role) => `unix://${served.socket(role)}`;
  const vifOn = async (role: Role) => remotes[remotes.push(await openRemoteVifPlugin({ endpoint: endpoint(role) })) - 1] as RemoteVifPlugin;
  const volumeOn = async (role: Role) => remotes[remotes.push(await openRemoteVolumeConnector({ endpoint: endpoint(role) })) - 1] as RemoteVolumeConnector;

  beforeAll(async () => {
    ns = makeNamespace('agent');
    dirs = tempDir('nova-agent-plugs-');
    fx = volumeFixtures({ root: join(dirs.dir, 'volumes'), outside: join(dirs.dir, 'elsewhere') });
    served = await serveReference(
      {},
      {
        agent: {
          vifPlugin: recordingVif(createVethPlugin({ netns: ns.name }), vifCalls),
          volumeConnector: recordingVolume(createFileConnector({ roots: [join(dirs.dir, 'volumes')], stateDir: join(dirs.dir, 'state') }), volumeCalls),
        },
      },
    );
  });
  afterAll(async () => {
    for (const r of remotes) r.close();
    await served.close();
    ns.remove();
    dirs.remove();
  });

  it('the remote plugs describe the served plugs: name, what they accept, the plug contract', async () => {
    const vif = await vifOn('network');
    expect(vif.name).toContain('linux-bridge-veth');
    expect(vif.vifTypes).toStrictEqual(['bridge', 'ethernet']);
    expect(vif.plugContractVersion).toBe(PLUG_CONTRACT_VERSION);
    const volume = await volumeOn('volume');
    expect(volume.name).toContain('file');
    expect(volume.transports).toStrictEqual(['file']);
    const connector = await volume.getConnector();
    expect(connector.host.length).toBeGreaterThan(0);
    expect(connector.multipath).toBe(false);
  });

  it('health reports both plug services SERVING, and reflection lists them', async () => {
    const target = endpoint('reader');
    for (const name of ['nova_common.compute.v1.VifPlugsService', 'nova_common.compute.v1.VolumeConnectorsService']) expect(await checkHealth(target, name), name).toBe('SERVING');
    const listed = (await reflect(target, { list_services: '' })) as { list_services_response: { service: { name: string }[] } };
    expect(listed.list_services_response.service.map((s) => s.name)).toEqual(
      expect.arrayContaining(['nova_common.compute.v1.ComputeService', 'nova_common.compute.v1.VifPlugsService', 'nova_common.compute.v1.VolumeConnectorsService']),
    );
  });

  it('a volume connects, lists, extends and disconnects through the wire; every call is idempotent', async () => {
    const volume = await volumeOn('volume');
    const v = await fx.makeVolume(1, 4 * MIB);
    const connected = await volume.connect(v.volumeId, v.connectionInfo);
    expect(connected).toStrictEqual({ volumeId: v.volumeId, kind: 'file', path: (v.connectionInfo as { path: string }).path, sizeBytes: 4 * MIB });
    expect(await volume.connect(v.volumeId, v.connectionInfo)).toStrictEqual(connected);
    expect(await volume.listConnected()).toStrictEqual([connected]);
    await fx.growVolume(v.connectionInfo, 6 * MIB);
    expect((await volume.extend(v.volumeId, v.connectionInfo)).sizeBytes).toBe(6 * MIB);
    await volume.disconnect(v.volumeId, v.connectionInfo);
    await volume.disconnect(v.volumeId, v.connectionInfo);
    expect(await volume.listConnected()).toStrictEqual([]);
    expect(statSync((v.connectionInfo as { path: string }).path).size).toBe(6 * MIB);
    // Extend of a volume that is not connected: the table's VOLUME_NOT_ATTACHED, carried by FAILED_PRECONDITION.
    expect((await failure(volume.extend(v.volumeId, v.connectionInfo))).code).toBe('VOLUME_NOT_ATTACHED');
    const raw = await rawPlugCall(endpoint('volume'), 'extend', { volumeId: v.volumeId, connectionInfo: connectionInfoToProto(v.connectionInfo) });
    expect(!raw.ok && [raw.grpcCode, raw.error?.code]).toStrictEqual([status.FAILED_PRECONDITION, 'VOLUME_NOT_ATTACHED']);
  });

  it('bad volume input is INVALID_INPUT naming the field, across the wire, and the connector never sees it', async () => {
    const volume = await volumeOn('volume');
    const v = await fx.makeVolume(2, MIB);
    volumeCalls.length = 0;
    expect(await failure(volume.connect('not-a-uuid', v.connectionInfo))).toMatchObject({ code: 'INVALID_INPUT', paths: ['volumeId'] });
    expect((await failure(volume.connect(v.volumeId, { driverVolumeType: 'file', path: '/srv/../etc/passwd' }))).paths).toStrictEqual(['connectionInfo.path']);
    expect((await failure(volume.connect(v.volumeId, { driverVolumeType: 'rbd', pool: 'p', image: 'i' }))).paths).toStrictEqual(['connectionInfo.driverVolumeType']);
    expect(volumeCalls).toStrictEqual([]);
    // A file outside the connector's roots: the connector itself refuses it, naming the path.
    expect(await failure(volume.connect(v.volumeId, await fx.outsideRoots()))).toMatchObject({ code: 'INVALID_INPUT', paths: ['connectionInfo.path'] });
    // On the wire: INVALID_ARGUMENT with the ErrorDetail naming the field; a request without connection info names it too.
    const raw = await rawPlugCall(endpoint('volume'), 'connect', { volumeId: v.volumeId });
    expect(!raw.ok && raw.grpcCode).toBe(status.INVALID_ARGUMENT);
    expect(!raw.ok && raw.error?.code).toBe('INVALID_INPUT');
    expect(!raw.ok && raw.error?.issues?.[0]?.path[0]).toBe('connectionInfo');
    expect(await volume.listConnected()).toStrictEqual([]);
  });

  it('a remote connector also works behind a local plug guard (it is a VolumeConnector)', async () => {
    const guarded = guardVolumeConnector(await volumeOn('compute'));
    const v = await fx.makeVolume(3, 2 * MIB);
    volumeCalls.length = 0;
    expect((await failure(guarded.connect('NOT-A-UUID', v.connectionInfo))).paths).toStrictEqual(['volumeId']);
    expect(volumeCalls).toStrictEqual([]);
    const c = await guarded.connect(v.volumeId.toUpperCase(), v.connectionInfo);
    expect(c.volumeId).toBe(v.volumeId);
    await guarded.disconnect(v.volumeId, v.connectionInfo);
    expect(volumeCalls).toStrictEqual(['connect', 'disconnect']);
  });

  it('a VIF plugs on the namespace’s bridge through the wire, idempotently, and unplugs leaving the host as it was', async () => {
    const vif = await vifOn('network');
    const before = ns.devices();
    const port = testVif(1, 'ncbr-agent');
    const plugged = await vif.plug(port, INSTANCE);
    expect(plugged).toMatchObject({ vifId: port.id, instanceUuid: INSTANCE.uuid, kind: 'veth', bridge: 'ncbr-agent', address: port.address, mtu: 1450 });
    expect(ns.devices()).toEqual(expect.arrayContaining([plugged.device, plugged.peer, 'ncbr-agent']));
    expect(await vif.plug(port, INSTANCE)).toStrictEqual(plugged);
    expect(await vif.listPlugged()).toStrictEqual([plugged]);
    // The port is this instance's: another instance's plug is the table's CONFLICT (ABORTED on the wire).
    expect((await failure(vif.plug(port, { uuid: '0b7e4d2a-5c1f-4a3e-9d8b-6f2a1c0e9d02' }))).code).toBe('CONFLICT');
    await vif.unplug(port, INSTANCE);
    await vif.unplug(port, INSTANCE);
    expect(await vif.listPlugged()).toStrictEqual([]);
    expect(ns.devices().sort()).toStrictEqual(before.sort());
  });

  it('bad VIF input is INVALID_INPUT naming the field, across the wire, and the plugin never sees it', async () => {
    const vif = await vifOn('network');
    vifCalls.length = 0;
    const port = testVif(2, 'ncbr-agent');
    expect(await failure(vif.plug({ ...port, network: { ...port.network, bridge: 'br;reboot' } }, INSTANCE))).toMatchObject({ code: 'INVALID_INPUT', paths: ['vif.network.bridge'] });
    expect((await failure(vif.plug({ ...port, devname: '-tap0' }, INSTANCE))).paths).toStrictEqual(['vif.devname']);
    expect((await failure(vif.plug({ ...port, type: 'ovs' }, INSTANCE))).paths).toStrictEqual(['vif.type']);
    expect((await failure(vif.plug(port, { uuid: 'nope' }))).paths).toStrictEqual(['instance.uuid']);
    // A value the wire cannot even carry (outside its enum) is refused before sending, naming the field all the same.
    expect(await failure(vif.plug({ ...port, type: 'disk' as never }, INSTANCE))).toMatchObject({ code: 'INVALID_INPUT', paths: ['vif.type'] });
    const raw = await rawPlugCall(endpoint('network'), 'plug', { vif: vifToProto(port) });
    expect(!raw.ok && [raw.grpcCode, raw.error?.code, raw.error?.issues?.[0]?.path]).toStrictEqual([status.INVALID_ARGUMENT, 'INVALID_INPUT', ['instance']]);
    expect(vifCalls).toStrictEqual([]);
  });

  it('roles: volume may not plug and network may not connect (PERMISSION_DENIED, the plug saw nothing); a reader lists', async () => {
    const port = testVif(3, 'ncbr-agent');
    const v = await fx.makeVolume(4, MIB);
    vifCalls.length = 0;
    volumeCalls.length = 0;
    const fromVolume = await rawPlugCall(endpoint('volume'), 'plug', { vif: vifToProto(port), instance: INSTANCE });
    expect(!fromVolume.ok && [fromVolume.grpcCode, fromVolume.error]).toStrictEqual([status.PERMISSION_DENIED, undefined]);
    const fromNetwork = await rawPlugCall(endpoint('network'), 'connect', { volumeId: v.volumeId, connectionInfo: connectionInfoToProto(v.connectionInfo) });
    expect(!fromNetwork.ok && fromNetwork.grpcCode).toBe(status.PERMISSION_DENIED);
    // The remote plugs report a refusal as INTERNAL naming PERMISSION_DENIED, as the remote driver does.
    const denied = await failure((await vifOn('volume')).plug(port, INSTANCE));
    expect(denied.code).toBe('INTERNAL');
    expect(denied.message).toContain('PERMISSION_DENIED');
    expect((await failure((await volumeOn('network')).connect(v.volumeId, v.connectionInfo))).message).toContain('PERMISSION_DENIED');
    for (const role of ['reader'] as const) {
      for (const op of ['plug', 'unplug'] as const) {
        const r = await rawPlugCall(endpoint(role), op, { vif: vifToProto(port), instance: INSTANCE });
        expect(!r.ok && r.grpcCode, `${role} ${op}`).toBe(status.PERMISSION_DENIED);
      }
      for (const op of ['connect', 'disconnect', 'extend'] as const) {
        const r = await rawPlugCall(endpoint(role), op, { volumeId: v.volumeId, connectionInfo: connectionInfoToProto(v.connectionInfo) });
        expect(!r.ok && r.grpcCode, `${role} ${op}`).toBe(status.PERMISSION_DENIED);
      }
    }
    expect(vifCalls).toStrictEqual([]);
    expect(volumeCalls).toStrictEqual([]);
    const reader = { vif: await vifOn('reader'), volume: await volumeOn('reader') };
    expect(await reader.vif.listPlugged()).toStrictEqual([]);
    expect(await reader.volume.listConnected()).toStrictEqual([]);
    expect((await reader.volume.getConnector()).platform.length).toBeGreaterThan(0);
    expect(vifCalls).toStrictEqual(['listPlugged']);
    expect(volumeCalls).toStrictEqual(['listConnected', 'getConnector']);
    // The compute role may call both.
    const compute = { vif: await vifOn('compute'), volume: await volumeOn('compute') };
    const plugged = await compute.vif.plug(port, INSTANCE);
    await compute.vif.unplug(port, INSTANCE);
    expect(plugged.vifId).toBe(port.id);
    expect((await compute.volume.connect(v.volumeId, v.connectionInfo)).sizeBytes).toBe(MIB);
    await compute.volume.disconnect(v.volumeId, v.connectionInfo);
  });

  it('a cancelled call never reaches the plug; a call within the deadline does', async () => {
    const volume = await volumeOn('volume');
    const v = await fx.makeVolume(5, MIB);
    const aborted = new AbortController();
    aborted.abort();
    volumeCalls.length = 0;
    expect((await failure(volume.connect(v.volumeId, v.connectionInfo, { signal: aborted.signal }))).code).toBe('CANCELLED');
    expect(volumeCalls).toStrictEqual([]);
    truncateSync((v.connectionInfo as { path: string }).path, 2 * MIB);
    expect((await volume.connect(v.volumeId, v.connectionInfo, { signal: new AbortController().signal })).sizeBytes).toBe(2 * MIB);
    await volume.disconnect(v.volumeId, v.connectionInfo);
  });
});

describe('an agent given no plugs', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serveReference();
  });
  afterAll(async () => served.close());

  it('answers the plug RPCs UNIMPLEMENTED with an UNSUPPORTED detail; the remote plugs fail to open with UNSUPPORTED', async () => {
    const target = `unix://${served.socket('compute')}`;
    for (const op of ['describeVifPlugin', 'listPlugged', 'describeVolumeConnector', 'getConnector', 'listConnected'] as const) {
      const r = await rawPlugCall(target, op, {});
      expect(!r.ok && [r.grpcCode, r.error?.code, r.error?.op], op).toStrictEqual([status.UNIMPLEMENTED, 'UNSUPPORTED', op]);
      expect(!r.ok && r.details, op).toMatch(/serves no (VIF plugin|volume connector)/);
    }
    expect((await failure(openRemoteVifPlugin({ endpoint: target }))).code).toBe('UNSUPPORTED');
    expect((await failure(openRemoteVolumeConnector({ endpoint: target }))).code).toBe('UNSUPPORTED');
    await expect(checkHealth(target, 'nova_common.compute.v1.VifPlugsService')).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('still refuses by role first: a reader’s Plug is PERMISSION_DENIED', async () => {
    const r = await rawPlugCall(`unix://${served.socket('reader')}`, 'plug', { vif: vifToProto(testVif(1, 'ncbr-x')), instance: INSTANCE });
    expect(!r.ok && r.grpcCode).toBe(status.PERMISSION_DENIED);
  });
});
