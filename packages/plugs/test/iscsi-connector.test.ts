import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVolumeConnectorConformance } from '@nova-common/conformance';
import type { GuardedVolumeConnector } from '@nova-common/core/plugs';
import { createIscsiConnector } from '../src/index.js';
import { makeVolumeDirs, startIscsiTarget } from '../src/testing/index.js';

// The iSCSI connector against a real user-space target (tgt) the test starts on 127.0.0.1: each
// LUN is reached through QEMU's user-space initiator and exported as a file over FUSE (this machine
// kind has no kernel iSCSI initiator). Every plug property must pass.
describe('iscsi connector on a tgt target on 127.0.0.1', () => {
  let dirs: ReturnType<typeof makeVolumeDirs>;
  let target: Awaited<ReturnType<typeof startIscsiTarget>>;
  beforeAll(async () => {
    dirs = makeVolumeDirs();
    target = await startIscsiTarget(dirs);
  });
  afterAll(async () => {
    await target?.stop();
    dirs?.remove();
  });

  it('passes every plug property', async () => {
    const connector = createIscsiConnector({ portals: [target.portal], stateDir: dirs.state });
    const result = await runVolumeConnectorConformance({ connector, ...target.fixtures }, { seed: 42 });
    const failed = result.properties.filter((p) => !p.passed).map((p) => `${p.id}: ${p.detail}`);
    expect(failed).toEqual([]);
  });

  it('the exported file is the LUN: bytes written through it reach the target\'s file, and a new connector object disconnects it', async () => {
    const fx = target.fixtures;
    const v = await fx.makeVolume(12, 2 * 1024 * 1024);
    const first = createIscsiConnector({ portals: [target.portal], stateDir: dirs.state });
    const connected = await first.connect(v.volumeId, v.connectionInfo);
    expect(connected).toMatchObject({ kind: 'file', sizeBytes: 2 * 1024 * 1024 });
    const { openSync, writeSync, closeSync, readFileSync } = await import('node:fs');
    const fd = openSync(connected.path, 'r+');
    writeSync(fd, Buffer.from('nova-common iscsi'), 0, 17, 4096);
    closeSync(fd);
    const backing = readFileSync(`${dirs.root}/lun-0c.img`);
    expect(backing.subarray(4096, 4096 + 17).toString()).toBe('nova-common iscsi');
    const second = createIscsiConnector({ portals: [target.portal], stateDir: dirs.state });
    expect((await second.listConnected()).map((c) => c.volumeId)).toEqual([v.volumeId]);
    expect((await second.getConnector()).initiator).toMatch(/^iqn\./);
    await second.disconnect(v.volumeId, v.connectionInfo);
    expect(await fx.witness()).toEqual([]);
    expect(await first.listConnected()).toEqual([]);
    expect(() => statSync(connected.path)).toThrow();
  });

  it('disconnects a volume whose target went away, leaving no daemon and no mount', async () => {
    const fx = target.fixtures;
    const v = await fx.makeVolume(13, 1024 * 1024);
    const connector = createIscsiConnector({ portals: [target.portal], stateDir: dirs.state });
    await connector.connect(v.volumeId, v.connectionInfo);
    await fx.dropTarget(v.connectionInfo);
    await connector.disconnect(v.volumeId, v.connectionInfo);
    expect(await connector.listConnected()).toEqual([]);
    expect(await fx.witness()).toEqual([]);
  });

  it('the suite fails a connector whose disconnect leaves the daemon serving the LUN', async () => {
    const real = createIscsiConnector({ portals: [target.portal], stateDir: dirs.state });
    const leaky: GuardedVolumeConnector = { ...real, disconnect: async () => undefined };
    const result = await runVolumeConnectorConformance({ connector: leaky, ...target.fixtures }, { runs: 2, seed: 7 });
    expect(result.properties.filter((p) => !p.passed).map((p) => p.id)).toContain('PLUG-VOLUME-IDEMPOTENT');
    for (const c of await real.listConnected()) await real.disconnect(c.volumeId, { driverVolumeType: 'iscsi', targetPortal: target.portal, targetIqn: 'iqn.2026-12.org.nova-common.test:any', targetLun: 1 });
    expect(await target.fixtures.witness()).toEqual([]);
  });

  it('a target that refuses the login leaves nothing behind', async () => {
    const connector = createIscsiConnector({ portals: [target.portal], stateDir: dirs.state });
    const info = { driverVolumeType: 'iscsi', targetPortal: target.portal, targetIqn: 'iqn.2026-12.org.nova-common.test:absent', targetLun: 1 } as const;
    await expect(connector.connect('9c3e5a7b-1f2d-4c6e-8a0b-2d4f6a8c0e0d', info)).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(await connector.listConnected()).toEqual([]);
    expect(await target.fixtures.witness()).toEqual([]);
  });
});
