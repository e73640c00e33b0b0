import fc from 'fast-check';
import { isDriverError } from '@nova-common/core';
import { VOLUME_CONNECT_SEMANTICS, type ConnectionInfoInput, type GuardedVolumeConnector, type VolumeConnectState } from '@nova-common/core/plugs';
import { checkModel, diff, expect, expectError, runPlugProperties, sameSet, type PlugRunResult } from './result.js';
import type { PlugSuiteOptions } from './vif-suite.js';

/** What the plug suite needs to test a volume connector on a host. */
export interface VolumeConnectorFixtures {
  connector: GuardedVolumeConnector;
  /** The i-th test volume (0..7): its id and a fresh connection info of `sizeBytes`, inside the connector's roots. */
  makeVolume(i: number, sizeBytes: number): Promise<{ volumeId: string; connectionInfo: ConnectionInfoInput }>;
  /** Grow a test volume's backing store (what the volume service does before asking the host to extend). */
  growVolume(connectionInfo: ConnectionInfoInput, sizeBytes: number): Promise<void>;
  /** A connection info the connector must refuse: a file that exists but lies outside its roots, or (iSCSI) a portal it may not reach. */
  outsideRoots(): Promise<ConnectionInfoInput>;
  /** The host's own look at what the connector could have made (e.g. every loop device and its file). */
  witness(): Promise<string[]>;
  /** Attach something to a test volume's backing store that the connector did not (an operator's loop device); returns its undo. */
  foreignUse(connectionInfo: ConnectionInfoInput): Promise<() => Promise<void>>;
}

const MIB = 1024 * 1024;

/**
 * The volume connector properties: the connect semantics table cell by cell, nothing left
 * after disconnect or a failed connect, extend answering the grown size, paths outside the
 * roots and unknown transports refused naming the field, concurrent connects, a foreign user
 * of a volume's file never touched, and a model-based property over random sequences.
 */
export async function runVolumeConnectorConformance(fx: VolumeConnectorFixtures, options: PlugSuiteOptions = {}): Promise<PlugRunResult> {
  const { connector } = fx;
  const baseline = await fx.witness();
  const made = new Map<string, ConnectionInfoInput>();
  const volume = async (i: number, sizeBytes = 4 * MIB) => {
    const v = await fx.makeVolume(i, sizeBytes);
    made.set(v.volumeId, v.connectionInfo);
    return v;
  };
  const disconnectAll = async (): Promise<void> => {
    for (const [id, info] of made) await connector.disconnect(id, info).catch(() => undefined);
  };
  const clean = async (what: string): Promise<void> => {
    const now = await fx.witness();
    expect(sameSet(baseline, now), `${what}: the host changed: ${diff(baseline, now)}`);
    const connected = await connector.listConnected();
    expect(connected.length === 0, `${what}: listConnected still answers ${connected.map((c) => c.path).join(', ')}`);
  };

  return runPlugProperties(connector.name, 'volume', connector.transports, [
    {
      id: 'PLUG-VOLUME-IDEMPOTENT',
      title: 'connect of a connected volume answers the same path; disconnect of a disconnected one succeeds',
      rule: 'connect/CONNECTED, disconnect/DISCONNECTED',
      async check() {
        const v = await volume(0);
        const first = await connector.connect(v.volumeId, v.connectionInfo);
        const again = await connector.connect(v.volumeId, v.connectionInfo);
        expect(first.path === again.path, `second connect answered ${again.path}, first ${first.path}`);
        expect(first.sizeBytes === 4 * MIB, `connect answered ${first.sizeBytes} bytes for a ${4 * MIB}-byte volume`);
        const listed = await connector.listConnected();
        expect(listed.length === 1 && listed[0]!.path === first.path, `listConnected answers ${listed.length} volumes after one connect`);
        await connector.disconnect(v.volumeId, v.connectionInfo);
        await connector.disconnect(v.volumeId, v.connectionInfo);
        await clean('after connect, connect, disconnect, disconnect');
      },
    },
    {
      id: 'PLUG-VOLUME-EXTEND',
      title: 'extend of a connected volume answers its grown size; of a disconnected one, VOLUME_NOT_ATTACHED',
      rule: 'extend/CONNECTED, extend/DISCONNECTED',
      async check() {
        const v = await volume(1);
        await expectError('extend of a disconnected volume', () => connector.extend(v.volumeId, v.connectionInfo), VOLUME_CONNECT_SEMANTICS.extend.DISCONNECTED.outcome);
        await connector.connect(v.volumeId, v.connectionInfo);
        await fx.growVolume(v.connectionInfo, 8 * MIB);
        const grown = await connector.extend(v.volumeId, v.connectionInfo);
        expect(grown.sizeBytes === 8 * MIB, `extend answered ${grown.sizeBytes} bytes, the volume has ${8 * MIB}`);
        await connector.disconnect(v.volumeId, v.connectionInfo);
        await clean('after extend');
      },
    },
    {
      id: 'PLUG-VOLUME-BAD-INPUT',
      title: 'a path outside the roots (a portal not allowed), an unknown transport and a bad volume id are refused naming the field, nothing touched',
      rule: 'R-PLUG-INPUT',
      async check() {
        const v = await volume(2);
        const outside = await fx.outsideRoots();
        const outsideField = outside.driverVolumeType === 'iscsi' ? 'targetPortal' : 'path';
        await expectError('a volume outside what the connector may reach', () => connector.connect(v.volumeId, outside), 'INVALID_INPUT', ['connectionInfo', outsideField]);
        await expectError('a path with .. segments', () => connector.connect(v.volumeId, { driverVolumeType: 'file', path: '/var/../etc/passwd' }), 'INVALID_INPUT', ['connectionInfo', 'path']);
        const iscsi = { driverVolumeType: 'iscsi', targetPortal: '127.0.0.1:3260', targetIqn: 'iqn.2026-01.test:vol', targetLun: 0 } as const;
        const refusesIscsi = !connector.transports.includes('iscsi');
        if (refusesIscsi) await expectError('a transport the connector does not speak', () => connector.connect(v.volumeId, iscsi), 'INVALID_INPUT', ['connectionInfo', 'driverVolumeType']);
        if (!connector.transports.includes('file')) {
          await expectError('a transport the connector does not speak', () => connector.connect(v.volumeId, { driverVolumeType: 'file', path: '/var/lib/nova-common/volume.img' }), 'INVALID_INPUT', ['connectionInfo', 'driverVolumeType']);
        }
        await expectError('a volume id that is not a uuid', () => connector.connect('../../etc', v.connectionInfo), 'INVALID_INPUT', ['volumeId']);
        await clean('after refused inputs');
      },
    },
    {
      id: 'PLUG-VOLUME-ATOMIC',
      title: 'a connect that fails (cancelled) leaves nothing connected',
      rule: 'R-PLUG-ATOMIC',
      async check() {
        const v = await volume(3);
        const aborted = new AbortController();
        aborted.abort();
        await expectError('connect with a cancelled signal', () => connector.connect(v.volumeId, v.connectionInfo, { signal: aborted.signal }), 'CANCELLED');
        await clean('after a cancelled connect');
      },
    },
    {
      id: 'PLUG-VOLUME-FOREIGN',
      title: 'disconnect never touches what another user made on the same volume file',
      rule: 'R-PLUG-FOREIGN',
      async check() {
        const v = await volume(4);
        const undo = await fx.foreignUse(v.connectionInfo);
        try {
          const withForeign = await fx.witness();
          await connector.connect(v.volumeId, v.connectionInfo);
          await connector.disconnect(v.volumeId, v.connectionInfo);
          const after = await fx.witness();
          expect(sameSet(withForeign, after), `connect and disconnect changed another user's state: ${diff(withForeign, after)}`);
        } finally {
          await undo();
        }
        await clean('after the foreign user left');
      },
    },
    {
      id: 'PLUG-VOLUME-CONCURRENT',
      title: 'concurrent connects of different volumes answer distinct paths; concurrent disconnects leave nothing',
      rule: 'R-PLUG-CONCURRENT',
      async check() {
        const vs = await Promise.all([5, 6, 7].map((i) => volume(i)));
        const connected = await Promise.all(vs.map((v) => connector.connect(v.volumeId, v.connectionInfo)));
        expect(new Set(connected.map((c) => c.path)).size === vs.length, `concurrent connects answered ${connected.map((c) => c.path).join(', ')}`);
        await Promise.all(vs.map((v) => connector.disconnect(v.volumeId, v.connectionInfo)));
        await clean('after concurrent disconnects');
      },
    },
    {
      id: 'PLUG-VOLUME-MODEL',
      title: 'random connect/disconnect/extend sequences over three volumes follow the connect semantics table',
      rule: 'connect/*, disconnect/*, extend/*',
      async check() {
        const vs = await Promise.all([0, 1, 2].map((i) => volume(i)));
        await modelProperty(connector, vs, options);
        await clean('after the random sequences');
      },
    },
  ], disconnectAll);
}

type Op = 'connect' | 'disconnect' | 'extend';

async function modelProperty(
  connector: GuardedVolumeConnector,
  vs: { volumeId: string; connectionInfo: ConnectionInfoInput }[],
  options: PlugSuiteOptions,
): Promise<void> {
  const step = fc.record({ op: fc.constantFrom<Op>('connect', 'disconnect', 'extend'), v: fc.integer({ min: 0, max: vs.length - 1 }) });
  const property = fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
    const connected = new Set<number>();
    try {
      for (const [n, s] of steps.entries()) {
        const state: VolumeConnectState = connected.has(s.v) ? 'CONNECTED' : 'DISCONNECTED';
        const cell = VOLUME_CONNECT_SEMANTICS[s.op][state];
        const { volumeId, connectionInfo } = vs[s.v]!;
        const where = `step ${n + 1} (${s.op} volume ${s.v}, ${state})`;
        let error: unknown;
        try {
          await connector[s.op](volumeId, connectionInfo);
        } catch (e) {
          error = e;
        }
        if (cell.outcome === 'ok' || cell.outcome === 'noop') {
          expect(error === undefined, `${where}: failed with ${isDriverError(error) ? error.code : String(error)}; the table says it succeeds (${cell.why})`);
        } else {
          expect(isDriverError(error) && error.code === cell.outcome, `${where}: ${error === undefined ? 'succeeded' : isDriverError(error) ? error.code : String(error)}; the table says ${cell.outcome}`);
        }
        if (cell.to === 'CONNECTED') connected.add(s.v);
        if (cell.to === 'DISCONNECTED') connected.delete(s.v);
        const listed = (await connector.listConnected()).map((c) => c.volumeId);
        const expected = [...connected].map((i) => vs[i]!.volumeId.toLowerCase());
        expect(sameSet(expected, listed), `${where}: listConnected answers [${listed.join(', ')}], the model has [${expected.join(', ')}]`);
      }
    } finally {
      for (const i of connected) await connector.disconnect(vs[i]!.volumeId, vs[i]!.connectionInfo).catch(() => undefined);
    }
  });
  await checkModel(property, options);
}
