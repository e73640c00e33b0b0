import { randomUUID } from 'node:crypto';
import { guard, isDriverError, type ComputeDriver, type GuardedDriver, type LifecycleEvent } from '@nova-common/core';
import { createReferenceDriver } from '@nova-common/core/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REMOTE_OPERATIONS, type RemoteOperation } from '../../src/mapping/operations.js';
import { instanceSpecArb } from '../arbitraries.js';
import { serveReference, type Served } from '../helpers/serve.js';
import { spec, vif, volume } from '../helpers/specs.js';

type Outcome = { ok: unknown } | { error: Record<string, unknown> };

async function outcome(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    const value = await run();
    return { ok: value === undefined ? null : structuredClone(value) };
  } catch (error) {
    if (!isDriverError(error)) throw error;
    const { code, message, issues, currentState, capability, op, target } = error;
    return { error: { code, message, issues, currentState, capability, op, target } };
  }
}

/** Snapshot image ids are fresh uuids on each side: compared by shape, then set aside (one result, or a list). */
function withoutImageId(o: Outcome): Outcome {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value !== null && typeof value === 'object' && 'imageId' in value) {
      const { imageId, ...rest } = value as { imageId: string };
      expect(imageId).toMatch(/\S/);
      return rest;
    }
    return value;
  };
  return 'ok' in o ? { ok: strip(o.ok) } : o;
}

const withoutTimestamp = (events: LifecycleEvent[]) => events.map(({ timestamp: _t, ...e }) => e);

describe('every operation through the agent answers exactly what the driver answers in process', () => {
  let served: Served;
  let local: GuardedDriver;
  let remote: GuardedDriver;
  const used = new Set<RemoteOperation>();
  const localEvents: LifecycleEvent[] = [];
  const remoteEvents: LifecycleEvent[] = [];

  beforeAll(async () => {
    served = await serveReference();
    local = guard(createReferenceDriver());
    await local.initHost();
    remote = await served.connect();
    local.subscribeEvents((e) => localEvents.push(e));
    remote.subscribeEvents((e) => remoteEvents.push(e));
  });
  afterAll(async () => served.close());

  /** Same call on both; the outcomes (value or error with its code, issues, state) must be equal. */
  async function same(op: RemoteOperation, call: (d: ComputeDriver | GuardedDriver) => Promise<unknown>): Promise<Outcome> {
    used.add(op);
    const [a, b] = await Promise.all([outcome(() => call(local)), outcome(() => call(remote))]);
    expect(withoutImageId(b), op).toStrictEqual(withoutImageId(a));
    return b;
  }

  it('walks an instance through every operation, errors included, and delivers the same events', async () => {
    const s = spec({ networkInfo: [vif()], blockDeviceInfo: { volumes: [volume()], ephemerals: [{ sizeGb: 1 }], swap: { sizeMb: 64 } }, userData: 'aGVsbG8=' });
    const u = s.uuid;
    const vol = volume();
    const nic = vif();
    await same('getCapabilities', (d) => d.getCapabilities());
    await same('listNodes', (d) => d.listNodes());
    await same('getInventory', (d) => d.getInventory());
    await same('spawn', (d) => d.spawn(s as never));
    await same('spawn', (d) => d.spawn(s as never)); // INSTANCE_EXISTS
    await same('listInstances', (d) => d.listInstances());
    await same('getInventory', (d) => d.getInventory());
    await same('getInfo', (d) => d.getInfo(u.toUpperCase()));
    await same('pause', (d) => d.pause!(u));
    await same('pause', (d) => d.pause!(u)); // no-op
    await same('suspend', (d) => d.suspend!(u)); // INVALID_STATE from PAUSED
    await same('unpause', (d) => d.unpause!(u));
    await same('suspend', (d) => d.suspend!(u));
    await same('resume', (d) => d.resume!(u));
    await same('powerOff', (d) => d.powerOff!(u, { gracefulTimeoutMs: 0 } as never));
    await same('pause', (d) => d.pause!(u)); // INVALID_STATE, currentState SHUTDOWN
    await same('powerOn', (d) => d.powerOn!(u));
    await same('reboot', (d) => d.reboot!(u, 'SOFT'));
    await same('reboot', (d) => d.reboot!(u, 'HARD'));
    await same('rescue', (d) => d.rescue!(u, { adminPassword: 'pw' }));
    await same('rescue', (d) => (d as GuardedDriver).rescue(u));
    await same('unrescue', (d) => d.unrescue!(u));
    await same('rebuild', (d) => d.rebuild!(u, { image: { id: 'fedora', diskFormat: 'raw', containerFormat: 'bare' }, metadata: {} } as never));
    await same('getInfo', (d) => d.getInfo(u));
    const snap = await same('snapshot', (d) => d.snapshot!(u, { name: 'snap-1' }));
    expect('ok' in snap).toBe(true);
    await same('deleteSnapshot', (d) => d.deleteSnapshot!('no-such-image'));
    const listed = await same('listSnapshots', (d) => d.listSnapshots!());
    expect('ok' in listed && listed.ok).toHaveLength(1);
    await same('attachVolume', (d) => d.attachVolume!(u, vol as never));
    await same('attachVolume', (d) => d.attachVolume!(u, vol as never)); // VOLUME_ALREADY_ATTACHED
    await same('extendVolume', (d) => d.extendVolume!(u, vol.volumeId, 20));
    await same('detachVolume', (d) => d.detachVolume!(u, vol.volumeId));
    await same('detachVolume', (d) => d.detachVolume!(u, vol.volumeId)); // VOLUME_NOT_ATTACHED
    await same('attachInterface', (d) => d.attachInterface!(u, nic as never));
    await same('attachInterface', (d) => d.attachInterface!(u, nic as never));
    await same('detachInterface', (d) => d.detachInterface!(u, nic.id));
    await same('detachInterface', (d) => d.detachInterface!(u, nic.id));
    await same('getInfo', (d) => d.getInfo(u));
    await same('getConsoleOutput', (d) => d.getConsoleOutput!(u));
    await same('restoreState', (d) => d.restoreState!(u, 'PAUSED'));
    await same('restoreState', (d) => d.restoreState!(u, 'SUSPENDED'));
    await same('restoreState', (d) => d.restoreState!(u, 'SUSPENDED')); // no-op
    await same('restoreState', (d) => d.restoreState!(u, 'SHUTDOWN')); // INVALID_STATE, currentState SUSPENDED
    await same('restoreState', (d) => d.restoreState!(u, 'RUNNING'));
    // Migration (1.2): the refusals answer the same on both sides...
    const mig = '0d7c3f9e-1b2a-4c5d-8e6f-7a8b9c0d1e2f';
    await same('prepareMigration', (d) => d.prepareMigration!({ migrationId: mig, kind: 'COLD', sourceDriver: 'another-kind', instance: s } as never)); // INVALID_INPUT
    await same('prepareMigration', (d) => d.prepareMigration!({ migrationId: mig, kind: 'COLD', sourceDriver: '@nova-common/core/testing', instance: s } as never)); // INSTANCE_EXISTS
    await same('finishMigration', (d) => d.finishMigration!(mig)); // INSTANCE_NOT_FOUND
    await same('abortMigration', (d) => d.abortMigration!(mig)); // nothing to abort
    await same('getMigrationProgress', (d) => d.getMigrationProgress!(u)); // NONE
    await same('getMigrationProgress', (d) => d.getMigrationProgress!(mig)); // INSTANCE_NOT_FOUND
    await same('migrate', (d) => d.migrate!(u, { migrationId: mig, kind: 'COLD', driver: 'another-kind', instanceUuid: u, node: 'n', flavor: s.flavor, sameHost: false, address: 'x' } as never)); // INVALID_INPUT
    // ...and an instance moves into the agent's host through the wire, and back out of it.
    const w = spec();
    await local.spawn(w as never);
    const into = await remote.prepareMigration({ migrationId: randomUUID(), kind: 'LIVE', sourceDriver: '@nova-common/core/testing', instance: w } as never);
    await local.migrate(w.uuid, into);
    await remote.finishMigration(into.migrationId);
    expect((await remote.getInfo(w.uuid)).powerState).toBe('RUNNING');
    expect(await local.listInstances()).not.toContainEqual(expect.objectContaining({ uuid: w.uuid }));
    const back = await local.prepareMigration({ migrationId: randomUUID(), kind: 'COLD', sourceDriver: '@nova-common/core/testing', instance: w } as never);
    await remote.migrate(w.uuid, back);
    await local.finishMigration(back.migrationId);
    expect((await local.getInfo(w.uuid)).powerState).toBe('RUNNING');
    expect(await remote.listInstances()).not.toContainEqual(expect.objectContaining({ uuid: w.uuid }));
    await local.destroy(w.uuid);
    await same('destroy', (d) => d.destroy(u));
    await same('destroy', (d) => d.destroy(u)); // idempotent
    await same('getInfo', (d) => d.getInfo(u)); // INSTANCE_NOT_FOUND
    await same('getConsoleOutput', (d) => d.getConsoleOutput!(u));
    await same('restoreState', (d) => d.restoreState!(u, 'RUNNING')); // INSTANCE_NOT_FOUND
    expect(remoteEvents.length).toBeGreaterThan(5);
    // The moved instance's events are each side's own (it was spawned and destroyed on the local host only).
    const walked = (events: LifecycleEvent[]) => withoutTimestamp(events.filter((e) => e.uuid !== w.uuid));
    expect(walked(remoteEvents)).toStrictEqual(walked(localEvents));
    expect([...REMOTE_OPERATIONS].filter((op) => !used.has(op))).toStrictEqual([]);
  });

  it('generated specs (valid or refused for placement) spawn, read and destroy the same on both sides', async () => {
    const specs = fc.sample(instanceSpecArb, { numRuns: 40, seed: 42 });
    let spawned = 0;
    for (const s of specs) {
      if ('ok' in (await same('spawn', (d) => d.spawn(s as never)))) spawned++;
      await same('getInfo', (d) => d.getInfo(s.uuid));
      await same('destroy', (d) => d.destroy(s.uuid));
    }
    await same('getInventory', (d) => d.getInventory());
    expect(spawned).toBeGreaterThan(0);
  });

  it('the agent’s own validation answers with the same code, issues and paths (remote driver used without its guard)', async () => {
    const rawRemote = (remote as GuardedDriver).raw;
    const bad: [RemoteOperation, (d: ComputeDriver) => Promise<unknown>][] = [
      ['getInfo', (d) => d.getInfo('not-a-uuid')],
      ['spawn', (d) => d.spawn(spec({ name: '', flavor: { id: 'f', name: 'f', vcpus: 0, memoryMb: 1, rootGb: 0 } }) as never)],
      ['spawn', (d) => d.spawn({ ...spec(), userData: 'not base64!' } as never)],
      ['extendVolume', (d) => d.extendVolume!(spec().uuid, 'vol', 0)],
      ['attachInterface', (d) => d.attachInterface!(spec().uuid, { ...vif(), address: 'zz' } as never)],
    ];
    for (const [op, call] of bad) {
      const [a, b] = await Promise.all([outcome(() => call(local as never)), outcome(() => call(rawRemote))]);
      expect('error' in b && b.error['code'], op).toBe('INVALID_INPUT');
      expect(b, op).toStrictEqual(a);
      expect(('error' in b && (b.error['issues'] as unknown[]).length) || 0, op).toBeGreaterThan(0);
    }
  });

  it('a capability the driver declares missing answers UNSUPPORTED naming it, from the agent’s guard', async () => {
    const partial = await serveReference({ disabledCapabilities: ['operation.pause', 'operation.snapshot'] });
    try {
      const strict = await partial.connect();
      const lenient = await partial.connect('compute', {}, { enforceCapabilities: false });
      const s = spec();
      await strict.spawn(s);
      for (const d of [strict, lenient]) {
        const error = await d.pause(s.uuid).catch((e: unknown) => e);
        expect(isDriverError(error) && { code: error.code, capability: error.capability }).toStrictEqual({ code: 'UNSUPPORTED', capability: 'operation.pause' });
      }
      expect((await strict.getCapabilities()).capabilities['operation.snapshot'].level).toBe('missing');
      expect((await partial.reference.getInfo(s.uuid)).powerState).toBe('RUNNING');
    } finally {
      await partial.close();
    }
  });
});
