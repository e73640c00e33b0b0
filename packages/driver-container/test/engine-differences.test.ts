import { afterEach, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver } from '@nova-common/core';
import { createContainerDriver } from '../src/driver/driver.js';
import { fakeEngine, type FakeEngine } from './fake-engine.js';

// What the driver sends to each engine kind for the calls podman answers differently (unit level, against a
// recording fake engine; test/podman/ checks the same on a real podman).

const uuid = '0a1b2c3d-2222-4333-8444-555555555555';
let engine: FakeEngine | undefined;
let driver: GuardedDriver | undefined;

afterEach(async () => {
  await driver?.cleanupHost();
  await engine?.close();
  driver = undefined;
  engine = undefined;
});

async function connect(kind: 'docker' | 'podman'): Promise<{ engine: FakeEngine; driver: GuardedDriver }> {
  engine = await fakeEngine(kind, uuid);
  driver = guard(createContainerDriver({ socketPath: engine.socketPath, ownerId: 'unit', stopTimeoutSeconds: 3, volumeRoot: '/tmp' }));
  await driver.initHost();
  engine.calls.length = 0;
  return { engine, driver };
}

const actions = (e: FakeEngine) => e.calls.filter((c) => c.startsWith('POST /containers/c1/')).map((c) => c.split(' ')[1]!.slice('/containers/c1/'.length));
const networkCalls = (e: FakeEngine) => e.calls.filter((c) => /^POST \/networks\/[^/]+\/(connect|disconnect)/.test(c)).map((c) => c.split(' ')[1]!.split('/')[3]);

describe('power changes of a PAUSED instance', () => {
  it('powerOff: dockerd stops it directly (its stop unfreezes); podman gets it unpaused first', async () => {
    for (const kind of ['docker', 'podman'] as const) {
      const { engine: e, driver: d } = await connect(kind);
      e.state.status = 'paused';
      await d.powerOff(uuid);
      expect(actions(e), kind).toEqual(kind === 'podman' ? ['unpause', 'stop'] : ['stop']);
      expect(e.state.status).toBe('exited');
      await d.cleanupHost();
      await e.close();
      driver = undefined;
      engine = undefined;
    }
  });

  it('reboot: dockerd restarts it directly; podman gets it unpaused first', async () => {
    for (const kind of ['docker', 'podman'] as const) {
      const { engine: e, driver: d } = await connect(kind);
      e.state.status = 'paused';
      await d.reboot(uuid, 'HARD');
      expect(actions(e), kind).toEqual(kind === 'podman' ? ['unpause', 'restart'] : ['restart']);
      expect(e.state.status).toBe('running');
      await d.cleanupHost();
      await e.close();
      driver = undefined;
      engine = undefined;
    }
  });

  it('a RUNNING instance is stopped the same way on both', async () => {
    for (const kind of ['docker', 'podman'] as const) {
      const { engine: e, driver: d } = await connect(kind);
      await d.powerOff(uuid);
      expect(actions(e), kind).toEqual(['stop']);
      await d.cleanupHost();
      await e.close();
      driver = undefined;
      engine = undefined;
    }
  });
});

describe('interface changes of a PAUSED instance', () => {
  it('podman: unpause, connect, pause again; dockerd: connect only', async () => {
    for (const kind of ['docker', 'podman'] as const) {
      const { engine: e, driver: d } = await connect(kind);
      e.state.status = 'paused';
      const vifId = '1a1b2c3d-2222-4333-8444-555555555555';
      await d.attachInterface(uuid, { id: vifId, address: 'fa:16:3e:00:00:01', network: { id: 'n1' } });
      expect(networkCalls(e), kind).toEqual(['connect']);
      expect(actions(e), kind).toEqual(kind === 'podman' ? ['unpause', 'pause'] : []);
      expect(e.state.status).toBe('paused');
      e.calls.length = 0;
      await d.detachInterface(uuid, vifId);
      expect(networkCalls(e), kind).toEqual(['disconnect']);
      expect(actions(e), kind).toEqual(kind === 'podman' ? ['unpause', 'pause'] : []);
      expect(e.state.status).toBe('paused');
      await d.cleanupHost();
      await e.close();
      driver = undefined;
      engine = undefined;
    }
  });

  it('a RUNNING instance is connected directly on both', async () => {
    const { engine: e, driver: d } = await connect('podman');
    await d.attachInterface(uuid, { id: '1a1b2c3d-2222-4333-8444-555555555555', address: 'fa:16:3e:00:00:01', network: { id: 'n1' } });
    expect(actions(e)).toEqual([]);
    expect(networkCalls(e)).toEqual(['connect']);
  });
});

describe('capabilities and events follow the connected engine', () => {
  it('interface changes are partial on podman, with the reason; attach-interface on dockerd 1.41 keeps its MAC note', async () => {
    const p = await connect('podman');
    const caps = await p.driver.getCapabilities();
    expect(caps.capabilities['operation.attach-interface']?.level).toBe('partial');
    expect(caps.capabilities['operation.detach-interface']?.level).toBe('partial');
    expect(caps.capabilities['operation.detach-interface']?.notes).toMatch(/paused/);
    await p.driver.cleanupHost();
    await p.engine.close();
    const d = await connect('docker');
    const dcaps = await d.driver.getCapabilities();
    expect(dcaps.capabilities['operation.attach-interface']?.level).toBe('partial');
    expect(dcaps.capabilities['operation.attach-interface']?.notes).toMatch(/API 1\.44/);
    expect(dcaps.capabilities['operation.detach-interface']?.level).toBe('complete');
  });

  it("asks each engine for exits under its own name (podman: died)", async () => {
    for (const kind of ['docker', 'podman'] as const) {
      const { engine: e, driver: d } = await connect(kind);
      const unsubscribe = d.subscribeEvents(() => undefined);
      for (let i = 0; i < 100 && e.eventQueries.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      unsubscribe();
      const filters = JSON.parse(e.eventQueries[0]!.get('filters')!) as { event: string[] };
      expect(filters.event, kind).toContain(kind === 'podman' ? 'died' : 'die');
      expect(filters.event, kind).not.toContain(kind === 'podman' ? 'die' : 'died');
      await d.cleanupHost();
      await e.close();
      driver = undefined;
      engine = undefined;
    }
  });
});
