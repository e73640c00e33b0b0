import { statSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import { isDriverError } from '@nova-common/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceSpecToProto } from '../../src/mapping/instance-spec.js';
import { volumeAttachmentToProto } from '../../src/mapping/block-device-info.js';
import { vifToProto } from '../../src/mapping/network-info.js';
import { memoryLogger, recording } from '../helpers/recording.js';
import { serveReference, type Served } from '../helpers/serve.js';
import { spec, vif, volume } from '../helpers/specs.js';
import { WireClient } from '../helpers/wire-client.js';
import { permits, ROLES, type Role } from '../../src/server/roles.js';
import * as pb from '../../src/wire.js';

const MUTATIONS = ['spawn', 'destroy', 'pause', 'powerOff', 'reboot', 'restoreState', 'attachVolume', 'attachInterface', 'extendVolume'] as const;

describe('roles at the wall: one socket per role', () => {
  let served: Served;
  const calls: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const clients = new Map<Role, WireClient>();
  const x = spec();
  const vol = volume();
  const nic = vif();

  beforeAll(async () => {
    served = await serveReference({}, { wrap: (d) => recording(d, calls), agent: { logger: memoryLogger(logs), metrics: '127.0.0.1:0' } });
    for (const role of ['compute', 'network', 'volume', 'reader'] as const) clients.set(role, new WireClient(`unix://${served.socket(role)}`));
    const compute = clients.get('compute')!;
    expect((await compute.call('spawn', { requestId: 'setup', spec: instanceSpecToProto(x) })).ok).toBe(true);
  });
  afterAll(async () => {
    for (const c of clients.values()) c.close();
    await served.close();
  });

  /** One call of each mutating kind; the ones `role` may make are listed in `allowed`. */
  async function attempt(role: Role) {
    const c = clients.get(role)!;
    const id = `${role}-${Math.random()}`;
    return {
      spawn: await c.call('spawn', { requestId: id + 's', spec: instanceSpecToProto(spec()) }),
      destroy: await c.call('destroy', { requestId: id + 'd', uuid: x.uuid }),
      pause: await c.call('pause', { requestId: id + 'p', uuid: x.uuid }),
      powerOff: await c.call('powerOff', { requestId: id + 'o', uuid: x.uuid }),
      reboot: await c.call('reboot', { requestId: id + 'r', uuid: x.uuid, type: 1 }),
      restoreState: await c.call('restoreState', { requestId: id + 'R', uuid: x.uuid, desired: pb.RestorableState.SHUTDOWN }),
      attachVolume: await c.call('attachVolume', { requestId: id + 'v', uuid: x.uuid, attachment: volumeAttachmentToProto(vol) }),
      attachInterface: await c.call('attachInterface', { requestId: id + 'i', uuid: x.uuid, vif: vifToProto(nic) }),
      extendVolume: await c.call('extendVolume', { requestId: id + 'e', uuid: x.uuid, volumeId: vol.volumeId, newSizeGb: 30 }),
    };
  }

  it('sockets are 0660', () => {
    for (const role of ['compute', 'network', 'volume', 'reader'] as const) expect(statSync(served.socket(role)).mode & 0o777).toBe(0o660);
  });

  it('reader, network and volume callers are refused every operation outside their role, before the driver sees it', async () => {
    const before = await served.reference.getInfo(x.uuid);
    const allowed: Record<Role, readonly string[]> = { reader: [], network: ['attachInterface'], volume: ['attachVolume', 'extendVolume'], compute: [] };
    for (const role of ['reader', 'network', 'volume'] as const) {
      calls.length = 0;
      const results = await attempt(role);
      for (const op of MUTATIONS) {
        const r = results[op];
        if (allowed[role].includes(op)) expect(r.ok, `${role} ${op}`).toBe(true);
        else {
          expect(!r.ok && r.grpcCode, `${role} ${op}`).toBe(status.PERMISSION_DENIED);
          expect(calls, `${role} ${op}`).not.toContain(op);
        }
      }
      expect(calls.filter((c) => !allowed[role].includes(c))).toStrictEqual([]);
    }
    const after = await served.reference.getInfo(x.uuid);
    expect(after.powerState).toBe(before.powerState);
    expect(after.volumes.map((v) => v.volumeId)).toStrictEqual([vol.volumeId]);
    expect(after.interfaces.map((i) => i.id)).toStrictEqual([nic.id]);
    expect(await served.reference.listInstances()).toHaveLength(1);
    expect(logs.filter((l) => String(l['msg']).startsWith('refused') && l['op'] === 'spawn')).toHaveLength(3);
  });

  it('every role may read, and the refusals are counted in the metrics', async () => {
    for (const role of ['reader', 'network', 'volume'] as const) {
      const c = clients.get(role)!;
      expect((await c.call('getInfo', { uuid: x.uuid })).ok).toBe(true);
      expect((await c.call('listInstances', {})).ok).toBe(true);
      expect((await c.call('getConsoleOutput', { uuid: x.uuid })).ok).toBe(true);
      const listed = await c.call('listSnapshots', {});
      expect(listed.ok && listed.response['snapshots']).toStrictEqual([]);
    }
    const text = await (await fetch(`http://127.0.0.1:${served.agent.metricsPort}/metrics`)).text();
    expect(text).toMatch(/nova_agent_calls_total\{operation="spawn",code="PERMISSION_DENIED"\} 3/);
    expect(text).toMatch(/nova_agent_calls_total\{operation="getInfo",code="OK"\} 3/);
    expect(text).toMatch(/nova_agent_call_duration_seconds_count\{operation="getInfo"\} 3/);
  });

  it('--socket-group gives the sockets to a group (by name or number), still 0660', async () => {
    const expected = process.getuid?.() === 0 ? 1 : process.getgid!();
    const group = process.getuid?.() === 0 ? 'daemon' : String(expected);
    const other = await serveReference({}, { roles: ['compute', 'reader'], agent: { socketGroup: group } });
    try {
      for (const role of ['compute', 'reader'] as const) {
        const st = statSync(other.socket(role));
        expect([st.gid, st.mode & 0o777]).toStrictEqual([expected, 0o660]);
      }
    } finally {
      await other.close();
    }
  });

  it('RestoreState (since 1.1) is the compute role’s alone; ListSnapshots is a read every role may make', () => {
    for (const role of ROLES) {
      expect(permits(new Set([role]), 'restoreState'), role).toBe(role === 'compute');
      expect(permits(new Set([role]), 'listSnapshots'), role).toBe(true);
    }
  });

  it('the plug RPCs: network plugs and unplugs, volume connects, disconnects and extends, every role reads them, compute calls all', () => {
    const reads = ['describeVifPlugin', 'listPlugged', 'describeVolumeConnector', 'getConnector', 'listConnected'] as const;
    const grants: Record<Role, readonly string[]> = {
      compute: ['plug', 'unplug', 'connect', 'disconnect', 'extend'],
      network: ['plug', 'unplug'],
      volume: ['connect', 'disconnect', 'extend'],
      reader: [],
    };
    for (const role of ROLES) {
      for (const rpc of reads) expect(permits(new Set([role]), rpc), `${role} ${rpc}`).toBe(true);
      for (const rpc of ['plug', 'unplug', 'connect', 'disconnect', 'extend'] as const) expect(permits(new Set([role]), rpc), `${role} ${rpc}`).toBe(grants[role].includes(rpc));
    }
  });

  it('a reader’s restoreState is refused PERMISSION_DENIED before the driver sees it, and the instance stays as it was', async () => {
    const reader = await served.connect('reader');
    const before = await served.reference.getInfo(x.uuid);
    calls.length = 0;
    const denied = await reader.restoreState(x.uuid, 'SHUTDOWN').catch((e: unknown) => e);
    expect(isDriverError(denied) && denied.code).toBe('INTERNAL');
    expect(String((denied as Error).message)).toContain('PERMISSION_DENIED');
    const raw = await clients.get('reader')!.call('restoreState', { requestId: 'reader-restore', uuid: x.uuid, desired: pb.RestorableState.PAUSED });
    expect(!raw.ok && raw.grpcCode).toBe(status.PERMISSION_DENIED);
    expect(calls).not.toContain('restoreState');
    expect(await served.reference.getInfo(x.uuid)).toStrictEqual(before);
  });

  it('the remote driver reports a refusal as INTERNAL naming PERMISSION_DENIED; with `role` it refuses before calling', async () => {
    const reader = await served.connect('reader');
    const denied = await reader.pause(x.uuid).catch((e: unknown) => e);
    expect(isDriverError(denied) && denied.code).toBe('INTERNAL');
    expect(String((denied as Error).message)).toContain('PERMISSION_DENIED');
    calls.length = 0;
    const local = await served.connect('compute', { role: 'reader' });
    const early = await local.pause(x.uuid).catch((e: unknown) => e);
    expect(isDriverError(early) && early.code).toBe('INTERNAL');
    expect(String((early as Error).message)).toContain('checked before calling the agent');
    expect(calls).not.toContain('pause');
    expect((await served.reference.getInfo(x.uuid)).powerState).toBe('RUNNING');
  });
});
