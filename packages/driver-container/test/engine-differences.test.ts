import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver, type LifecycleEvent } from '@nova-common/core';
import { createContainerDriver } from '../src/driver/driver.js';
import { CONTAINER_ID, fakeEngine, type FakeEngine } from './fake-engine.js';

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
  const stateDir = mkdtempSync(path.join(tmpdir(), 'nova-unit-state-'));
  driver = guard(createContainerDriver({ socketPath: engine.socketPath, ownerId: 'unit', stopTimeoutSeconds: 3, volumeRoot: '/tmp/nova-unit-volumes', stateDir }));
  await driver.initHost();
  engine.calls.length = 0;
  return { engine, driver };
}

const prefix = `POST /containers/${CONTAINER_ID}/`;
const actions = (e: FakeEngine) => e.calls.filter((c) => c.startsWith(prefix)).map((c) => c.slice(prefix.length).split(' ')[0]);
const networkCalls = (e: FakeEngine) => e.calls.filter((c) => /^POST \/networks\/[^/]+\/(connect|disconnect)/.test(c)).map((c) => c.split(' ')[1]!.split('/')[3]);

/** Run `body` against a fake engine of each kind, closing each before the next. */
async function onBoth(body: (kind: 'docker' | 'podman', e: FakeEngine, d: GuardedDriver) => Promise<void>): Promise<void> {
  for (const kind of ['docker', 'podman'] as const) {
    const { engine: e, driver: d } = await connect(kind);
    await body(kind, e, d);
    await d.cleanupHost();
    await e.close();
    driver = undefined;
    engine = undefined;
  }
}

describe('power changes of a PAUSED instance', () => {
  it('powerOff is forced at once on both engines: SIGKILL to the init (both kill a paused container), no graceful stop', async () => {
    await onBoth(async (kind, e, d) => {
      e.state.status = 'paused';
      await d.powerOff(uuid, { gracefulTimeoutMs: 60_000 });
      expect(actions(e), kind).toEqual(['kill', 'wait']);
      expect(e.calls.find((c) => c.startsWith(`${prefix}kill`)), kind).toBeDefined();
      expect(e.state.status).toBe('exited');
      // The driver asked for that SIGKILL: the run reads SHUTDOWN, not CRASHED.
      expect((await d.getInfo(uuid)).powerState, kind).toBe('SHUTDOWN');
    });
  });

  it('a hard reboot kills and starts it on both engines', async () => {
    await onBoth(async (kind, e, d) => {
      e.state.status = 'paused';
      await d.reboot(uuid, 'HARD');
      expect(actions(e), kind).toEqual(['kill', 'wait', 'start']);
      expect(e.state.status).toBe('running');
    });
  });

  it('a soft reboot is refused (INVALID_STATE) without a call to the engine', async () => {
    await onBoth(async (kind, e, d) => {
      e.state.status = 'paused';
      await expect(d.reboot(uuid, 'SOFT'), kind).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'PAUSED' });
      expect(actions(e), kind).toEqual([]);
      expect(e.state.status).toBe('paused');
    });
  });

  it('a RUNNING instance is stopped gracefully, and soft-rebooted as stop then start, the same way on both', async () => {
    await onBoth(async (kind, e, d) => {
      await d.powerOff(uuid);
      expect(actions(e), kind).toEqual(['stop']);
      await d.powerOn(uuid);
      e.calls.length = 0;
      await d.reboot(uuid, 'SOFT');
      expect(actions(e), kind).toEqual(['stop', 'start']);
    });
  });
});

describe('the grace period of a power off', () => {
  it('R-POWER-OFF-DEFAULT: without gracefulTimeoutMs the guard passes 60 000 ms, which the engine gets as t=60; a given one is rounded up to seconds', async () => {
    await onBoth(async (kind, e, d) => {
      await d.powerOff(uuid);
      await d.powerOn(uuid);
      await d.powerOff(uuid, { gracefulTimeoutMs: 1500 });
      await d.powerOn(uuid);
      await d.powerOff(uuid, { gracefulTimeoutMs: 0 });
      const stops = e.urls.filter((u) => u.startsWith(`${prefix}stop`)).map((u) => new URLSearchParams(u.split('?')[1]).get('t'));
      expect(stops, kind).toEqual(['60', '2', '0']);
    });
  });
});

describe('a CRASHED instance', () => {
  it('powerOff records that the run now reads SHUTDOWN, reports STOPPED itself, and never starts the guest', async () => {
    await onBoth(async (kind, e, d) => {
      e.state.status = 'exited';
      e.state.exitCode = 137;
      expect((await d.getInfo(uuid)).powerState, kind).toBe('CRASHED');
      const events: LifecycleEvent[] = [];
      const unsubscribe = d.subscribeEvents((ev) => events.push(ev));
      await d.powerOff(uuid);
      unsubscribe();
      expect(actions(e), kind).toEqual([]);
      expect((await d.getInfo(uuid)).powerState, kind).toBe('SHUTDOWN');
      expect(events.map((ev) => [ev.kind, ev.powerState, ev.cause]), kind).toEqual([['STOPPED', 'SHUTDOWN', 'requested']]);
      // A new run is not covered by the old record: a crash of it reads CRASHED again.
      await d.powerOn(uuid);
      e.state.status = 'exited';
      e.state.exitCode = 137;
      expect((await d.getInfo(uuid)).powerState, kind).toBe('CRASHED');
    });
  });
});

describe('interface changes of a PAUSED instance', () => {
  it('attach: podman unpause, connect, pause again; dockerd connect only. detach: refused (INVALID_STATE) on both, no call', async () => {
    await onBoth(async (kind, e, d) => {
      e.state.status = 'paused';
      const vifId = '1a1b2c3d-2222-4333-8444-555555555555';
      await d.attachInterface(uuid, { id: vifId, address: 'fa:16:3e:00:00:01', network: { id: 'n1' } });
      expect(networkCalls(e), kind).toEqual(['connect']);
      expect(actions(e), kind).toEqual(kind === 'podman' ? ['unpause', 'pause'] : []);
      expect(e.state.status).toBe('paused');
      e.calls.length = 0;
      await expect(d.detachInterface(uuid, vifId), kind).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'PAUSED' });
      expect(e.calls.filter((c) => !c.startsWith('GET ')), kind).toEqual([]);
      expect(e.state.status).toBe('paused');
    });
  });

  it('a RUNNING instance is connected directly on both', async () => {
    const { engine: e, driver: d } = await connect('podman');
    await d.attachInterface(uuid, { id: '1a1b2c3d-2222-4333-8444-555555555555', address: 'fa:16:3e:00:00:01', network: { id: 'n1' } });
    expect(actions(e)).toEqual([]);
    expect(networkCalls(e)).toEqual(['connect']);
  });
});

describe('capabilities and events follow the connected engine', () => {
  it('attach-interface is partial on podman, with the reason (detach from PAUSED is refused since 1.1, so detach is complete); attach-interface on dockerd 1.41 keeps its MAC note', async () => {
    const p = await connect('podman');
    const caps = await p.driver.getCapabilities();
    expect(caps.capabilities['operation.attach-interface']?.level).toBe('partial');
    expect(caps.capabilities['operation.attach-interface']?.notes).toMatch(/paused/);
    expect(caps.capabilities['operation.detach-interface']?.level).toBe('complete');
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
