import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RestorableStateSchema,
  columnOfCall,
  expectedOutcome,
  guard,
  type ExistingState,
  type GuardedDriver,
  type InstanceSpecInput,
  type LifecycleEvent,
} from '@nova-common/core';
import { createLibvirtDriver, type LibvirtDriver } from '../src/driver/driver.js';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { libvirtConformanceFixtures } from '../src/fixtures/conformance-fixtures.js';
import { LibvirtDriverConfigSchema } from '../src/config.js';
import { manifest } from '../src/manifest.js';
import { SOCKET, requireLibvirtd, waitUntil } from './helpers/backend.js';

/**
 * Contract 1.1 on libvirt's test driver served by the real libvirtd, through the guard: the
 * changed cells the test driver can reach, restoreState from every state it can be in,
 * listSnapshots, and out-of-band events (an operator acting on libvirtd through a connection
 * of its own). What needs a real guest (detach in PAUSED, a forced power off, crash, a
 * guest's own shutdown or sleep, a restart of libvirtd) is in the QEMU files.
 */

const PREFIX = 'v11t-';
const config = LibvirtDriverConfigSchema.parse({ uri: 'test:///default', socketPath: SOCKET, namePrefix: PREFIX });
let unguarded: LibvirtDriver;
let driver: GuardedDriver;
let operator: LibvirtClient;
const events: LifecycleEvent[] = [];

function spec(over: Partial<InstanceSpecInput> = {}): InstanceSpecInput {
  return {
    uuid: randomUUID(),
    name: 'v11',
    flavor: { id: 'f1', name: 'm1.tiny', vcpus: 1, memoryMb: 128, rootGb: 1 },
    image: { id: 'cirros', diskFormat: 'qcow2', containerFormat: 'bare' },
    ...over,
  };
}

/** An instance brought into `state` through the driver's own calls. */
async function instanceIn(state: ExistingState): Promise<string> {
  const s = spec({ powerOn: state !== 'SHUTDOWN' });
  await driver.spawn(s);
  if (state === 'PAUSED') await driver.pause(s.uuid);
  if (state === 'SUSPENDED') await driver.suspend(s.uuid);
  if (state === 'RESCUE') await driver.rescue(s.uuid, {});
  const info = await driver.getInfo(s.uuid);
  expect(info.mode === 'rescue' ? 'RESCUE' : info.powerState).toBe(state);
  return s.uuid;
}

function eventsOf(uuid: string): LifecycleEvent[] {
  return events.filter((e) => e.uuid === uuid);
}

beforeAll(async () => {
  await requireLibvirtd('test:///default');
  // The operator's own connection; it also keeps the test driver's state alive for the file.
  operator = new LibvirtClient({ socketPath: SOCKET, uri: 'test:///default', keepaliveIntervalMs: 0 });
  await operator.connect();
  unguarded = createLibvirtDriver(config);
  driver = guard(unguarded);
  await driver.initHost();
  driver.subscribeEvents((e) => events.push(e));
});

afterAll(async () => {
  for (const i of (await driver?.listInstances().catch(() => [])) ?? []) await driver.destroy(i.uuid);
  await driver?.cleanupHost();
  await operator?.close();
});

describe('what the driver declares for 1.1 on the test driver', () => {
  it('implements contract ^1.2.0 (with what 1.1 added) and states the test driver caveats', async () => {
    expect(manifest.contract).toBe('^1.2.0');
    const caps = await driver.getCapabilities();
    expect(caps.capabilities['event.out-of-band']?.level).toBe('complete');
    expect(caps.capabilities['operation.restore-state']).toMatchObject({ level: 'partial', notes: expect.stringMatching(/restart/) });
    // Its snapshots go with their instance: they could not all be listed, so listing is declared missing.
    expect(caps.capabilities['operation.list-snapshots']?.level).toBe('missing');
  });

  it('offers only the backend hooks the test driver can honour', async () => {
    const fixtures = libvirtConformanceFixtures(config);
    try {
      expect(typeof fixtures.backend?.powerOffOutOfBand).toBe('function');
      // No process to kill, a restart loses every domain, nothing reaches NOSTATE on demand.
      expect(fixtures.backend?.crash).toBeUndefined();
      expect(fixtures.backend?.restartBackend).toBeUndefined();
      expect(fixtures.backend?.loseState).toBeUndefined();
    } finally {
      await fixtures.cleanup?.();
    }
  });
});

describe('cells changed in 1.1', () => {
  it('R-REBOOTSOFT-PAUSED: a soft reboot of a paused instance is INVALID_STATE and changes nothing', async () => {
    const uuid = await instanceIn('PAUSED');
    await expect(driver.reboot(uuid, 'SOFT')).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'PAUSED' });
    expect((await driver.getInfo(uuid)).powerState).toBe('PAUSED');
    await driver.destroy(uuid);
  });

  it('R-REBOOTSOFT-SUSPENDED: a soft reboot of a suspended instance is INVALID_STATE and keeps the saved image', async () => {
    const uuid = await instanceIn('SUSPENDED');
    await expect(driver.reboot(uuid, 'SOFT')).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'SUSPENDED' });
    expect((await driver.getInfo(uuid)).powerState).toBe('SUSPENDED');
    expect(await operator.hasManagedSaveImage(await operator.lookupByUuid(uuid))).toBe(true);
    await driver.destroy(uuid);
  });

  it('R-SNAPSHOT-SUSPENDED: a suspended instance can be snapshotted and stays suspended', async () => {
    const uuid = await instanceIn('SUSPENDED');
    const snap = await driver.snapshot(uuid, { name: 'while suspended' });
    expect(snap).toMatchObject({ name: 'while suspended', imageId: expect.stringMatching(/^snapshot-/) });
    expect((await driver.getInfo(uuid)).powerState).toBe('SUSPENDED');
    expect((await operator.snapshotLookupByName(await operator.lookupByUuid(uuid), snap.imageId)).name).toBe(snap.imageId);
    await driver.resume(uuid); // the saved image is still what resume restores
    expect((await driver.getInfo(uuid)).powerState).toBe('RUNNING');
    await driver.deleteSnapshot(snap.imageId);
    await driver.destroy(uuid);
  });

  it('R-REBUILD-SHUTDOWN: a rebuilt stopped instance stays stopped; a running one runs again', async () => {
    const stopped = await instanceIn('SHUTDOWN');
    await driver.rebuild(stopped, { image: { id: 'other', diskFormat: 'raw', containerFormat: 'bare' } });
    expect((await driver.getInfo(stopped)).powerState).toBe('SHUTDOWN');
    const running = await instanceIn('RUNNING');
    await driver.rebuild(running, { image: { id: 'other', diskFormat: 'raw', containerFormat: 'bare' } });
    expect((await driver.getInfo(running)).powerState).toBe('RUNNING');
    await driver.destroy(stopped);
    await driver.destroy(running);
  });
});

describe('restoreState (R-RESTORE-STATE) from every state the test driver reaches', () => {
  const states = ['RUNNING', 'PAUSED', 'SHUTDOWN', 'SUSPENDED', 'RESCUE'] as const;
  for (const from of states) {
    for (const desired of RestorableStateSchema.options) {
      const cell = expectedOutcome(from, columnOfCall('restoreState', ['', desired])!);
      it(`from ${from} to ${desired}: ${cell.ok ? (cell.noop ? 'no-op' : `-> ${cell.to}`) : cell.error}`, async () => {
        const uuid = await instanceIn(from);
        const before = await operator.hasManagedSaveImage(await operator.lookupByUuid(uuid));
        if (cell.ok) {
          await driver.restoreState(uuid, desired);
          await driver.restoreState(uuid, desired); // idempotent: the second call is a no-op
          expect((await driver.getInfo(uuid)).powerState).toBe(desired);
        } else {
          await expect(driver.restoreState(uuid, desired)).rejects.toMatchObject({ code: cell.error });
          const info = await driver.getInfo(uuid);
          expect(info.mode === 'rescue' ? 'RESCUE' : info.powerState).toBe(from);
          // A saved memory image is never discarded by a refusal.
          expect(await operator.hasManagedSaveImage(await operator.lookupByUuid(uuid))).toBe(before);
        }
        await driver.destroy(uuid);
      });
    }
  }

  it('a paused instance saved by restoreState resumes running (the image is saved to run)', async () => {
    const uuid = await instanceIn('PAUSED');
    await driver.restoreState(uuid, 'SUSPENDED');
    await driver.resume(uuid);
    expect((await driver.getInfo(uuid)).powerState).toBe('RUNNING');
    await driver.destroy(uuid);
  });

  it('an unknown instance is INSTANCE_NOT_FOUND', async () => {
    await expect(driver.restoreState(randomUUID(), 'RUNNING')).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
  });
});

describe('listSnapshots on the test driver', () => {
  it('is declared missing and refused with UNSUPPORTED by the driver itself, changing nothing', async () => {
    const ungated = guard(unguarded, { enforceCapabilities: false });
    await expect(ungated.listSnapshots()).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(driver.listSnapshots()).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});

describe('out-of-band events (R-EVENT-OUT-OF-BAND)', () => {
  const bound = () => driver.getCapabilities().then((c) => c.eventualConsistency.eventDeliveryMs);

  async function nextEvent(uuid: string, seen: number, kind: LifecycleEvent['kind']): Promise<LifecycleEvent> {
    return waitUntil(`a ${kind} event`, async () => eventsOf(uuid).slice(seen).find((e) => e.kind === kind), await bound());
  }

  it('labels the driver\'s own transitions requested and an operator\'s out-of-band, and getInfo agrees', async () => {
    const uuid = await instanceIn('RUNNING');
    const ref = await operator.lookupByUuid(uuid);
    const steps: [string, () => Promise<unknown>, LifecycleEvent['kind'], LifecycleEvent['cause'], string][] = [
      ['operator pauses', () => operator.suspend(ref), 'PAUSED', 'out-of-band', 'PAUSED'],
      ['driver unpauses', () => driver.unpause(uuid), 'RESUMED', 'requested', 'RUNNING'],
      ['operator destroys', () => operator.destroy(ref), 'STOPPED', 'out-of-band', 'SHUTDOWN'],
      ['driver powers on', () => driver.powerOn(uuid), 'STARTED', 'requested', 'RUNNING'],
      ['operator saves', () => operator.managedSave(ref), 'SUSPENDED', 'out-of-band', 'SUSPENDED'],
      ['driver resumes', () => driver.resume(uuid), 'STARTED', 'requested', 'RUNNING'],
      ['driver pauses', () => driver.pause(uuid), 'PAUSED', 'requested', 'PAUSED'],
      ['operator resumes', () => operator.resume(ref), 'RESUMED', 'out-of-band', 'RUNNING'],
    ];
    for (const [what, act, kind, cause, state] of steps) {
      const seen = eventsOf(uuid).length;
      await act();
      const e = await nextEvent(uuid, seen, kind);
      expect({ what, cause: e.cause, powerState: e.powerState }).toEqual({ what, cause, powerState: state });
      expect((await driver.getInfo(uuid)).powerState).toBe(e.powerState);
    }
    await driver.destroy(uuid);
  });

  it('an operator acting right after one of the driver\'s calls is still out-of-band', async () => {
    const s = spec();
    await driver.spawn(s);
    const seen = eventsOf(s.uuid).length;
    // No pause: the spawn's tail only counts what announces RUNNING.
    await operator.destroy(await operator.lookupByUuid(s.uuid));
    expect(await nextEvent(s.uuid, seen, 'STOPPED')).toMatchObject({ cause: 'out-of-band', powerState: 'SHUTDOWN' });
    await driver.destroy(s.uuid);
  });

  it('what changed while the driver was disconnected from libvirtd is announced, out-of-band, once it reconnects', async () => {
    const uuid = await instanceIn('RUNNING');
    const seen = eventsOf(uuid).length;
    // The connection drops; the operator pauses the instance before the driver is back (its first retry is 100 ms later).
    (unguarded.libvirt.connection as unknown as { socket?: { destroy(): void } }).socket?.destroy();
    await operator.suspend(await operator.lookupByUuid(uuid));
    await waitUntil('the driver to reconnect', async () => unguarded.libvirt.connection.isOpen, 5_000);
    expect(await nextEvent(uuid, seen, 'PAUSED')).toMatchObject({ cause: 'out-of-band', powerState: 'PAUSED' });
    expect((await driver.getInfo(uuid)).powerState).toBe('PAUSED');
    await driver.destroy(uuid);
  });

  it('the powerOffOutOfBand hook powers the instance off behind the driver, and returns once it is off', async () => {
    const fixtures = libvirtConformanceFixtures(config);
    try {
      const uuid = await instanceIn('PAUSED');
      const seen = eventsOf(uuid).length;
      await fixtures.backend!.powerOffOutOfBand!(uuid);
      expect((await driver.getInfo(uuid)).powerState).toBe('SHUTDOWN');
      expect(await nextEvent(uuid, seen, 'STOPPED')).toMatchObject({ cause: 'out-of-band', powerState: 'SHUTDOWN' });
      // Already off: nothing to do.
      await fixtures.backend!.powerOffOutOfBand!(uuid);
      expect((await driver.getInfo(uuid)).powerState).toBe('SHUTDOWN');
      await driver.destroy(uuid);
    } finally {
      await fixtures.cleanup?.();
    }
  });
});
