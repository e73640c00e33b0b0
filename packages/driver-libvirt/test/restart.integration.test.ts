import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver, type PowerState } from '@nova-common/core';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { LibvirtDriverConfigSchema } from '../src/config.js';
import { libvirtConformanceFixtures } from '../src/fixtures/conformance-fixtures.js';
import type { LibvirtBackendHooks } from '../src/fixtures/backend-hooks.js';
import { SOCKET, requireGuest, requireLibvirtd, waitUntil } from './helpers/backend.js';
import { EventLog, bootedGuest, boots, guestSpec, qemuConfig, waitConsole } from './helpers/qemu.js';

/**
 * restoreState (R-RESTORE-STATE) after real restarts, through scripts/backends/libvirt.sh:
 * - libvirtd restarts (`restart`): QEMU guests keep running; libvirt forgets why a stopped
 *   domain stopped (a crash reads SHUTDOWN afterwards);
 * - the host restarts (`restart --host`: every QEMU process killed, libvirtd restarted):
 *   guests that ran are gone, definitions and managed save images stay.
 * From each state found, restoreState brings the instance back to what its caller asked for,
 * never discarding a saved memory image nor inventing one.
 */

const PREFIX = 'rst-';
const config = LibvirtDriverConfigSchema.parse(qemuConfig(PREFIX, { acpiShutdownTimeoutMs: 30_000 }));
const fixtures = libvirtConformanceFixtures(config);
const hooks = fixtures.backend as LibvirtBackendHooks;
const log = new EventLog();
/**
 * How long after a restart the driver may take to reconnect (its backoff) and announce what changed:
 * generous, since a host restart on a loaded two-core machine (libvirtd, then QEMU reaped) took over 15 s.
 */
const RECOVERY_MS = 45_000;
let driver: GuardedDriver;
let sleepy: GuardedDriver;
let operator: LibvirtClient;

async function state(uuid: string): Promise<PowerState> {
  return (await driver.getInfo(uuid)).powerState;
}

/** The pid of the instance's QEMU process, from libvirt's pid file. */
async function qemuPid(uuid: string): Promise<number> {
  await operator.connect();
  const d = await operator.lookupByUuid(uuid);
  return Number((await readFile(`/run/libvirt/qemu/${d.name}.pid`, 'utf8')).trim());
}

async function hasImage(uuid: string): Promise<boolean> {
  await operator.connect();
  return operator.hasManagedSaveImage(await operator.lookupByUuid(uuid));
}

/** A guest that put itself to sleep (libvirt's PMSUSPENDED). */
async function sleepingGuest(): Promise<string> {
  const uuid = await bootedGuest(sleepy);
  await waitUntil('the guest to sleep', async () => (await state(uuid)) === 'SUSPENDED', 60_000, 100);
  return uuid;
}

beforeAll(async () => {
  await requireLibvirtd('qemu:///system');
  requireGuest();
  if (!hooks.restartBackend || !hooks.restartHost) throw new Error('scripts/backends/libvirt.sh was not found from the working directory');
  operator = new LibvirtClient({ socketPath: SOCKET, uri: 'qemu:///system', keepaliveIntervalMs: 0 });
  driver = guard(createLibvirtDriver(config));
  await driver.initHost();
  driver.subscribeEvents(log.listener);
  sleepy = guard(createLibvirtDriver(qemuConfig(PREFIX, { kernelArgs: 'console=ttyS0 nova.sleep=2' })));
  await sleepy.initHost();
});

afterAll(async () => {
  // Whatever happened, leave libvirtd running for what runs next.
  await hooks.restartBackend?.().catch(() => undefined);
  for (const i of (await driver?.listInstances().catch(() => [])) ?? []) await driver.destroy(i.uuid).catch(() => undefined);
  await sleepy?.cleanupHost();
  await driver?.cleanupHost();
  await operator?.close();
  await fixtures.cleanup?.();
});

describe('after libvirtd restarts (guests keep running)', () => {
  it('finds every instance as it was (a crash forgotten), and restoreState brings each to what was asked', async () => {
    const stopped = guestSpec({ powerOn: false });
    await driver.spawn(stopped);
    // Guests boot together (each takes seconds under TCG).
    const [running, paused, saved, sleeping, crashed] = await Promise.all([
      bootedGuest(driver),
      bootedGuest(driver),
      bootedGuest(driver),
      sleepingGuest(),
      bootedGuest(driver),
    ]);
    await driver.pause(paused);
    await driver.suspend(saved);
    await hooks.crash!(crashed);
    expect(await state(crashed)).toBe('CRASHED');
    const runningQemu = await qemuPid(running);
    await new Promise((r) => setTimeout(r, 1_000)); // the last events of the setup are in
    const seen = log.all.length;
    const crashedSeen = log.count(crashed);

    await hooks.restartBackend!();

    expect({
      running: await state(running),
      paused: await state(paused),
      stopped: await state(stopped.uuid),
      saved: await state(saved),
      sleeping: await state(sleeping),
      crashed: await state(crashed),
    }).toEqual({ running: 'RUNNING', paused: 'PAUSED', stopped: 'SHUTDOWN', saved: 'SUSPENDED', sleeping: 'SUSPENDED', crashed: 'SHUTDOWN' });
    expect(await qemuPid(running)).toBe(runningQemu); // the same QEMU: it outlived the daemon
    // Once reconnected, the driver announces what changed while it could not hear libvirtd:
    // only the crash libvirt forgot (it reads SHUTDOWN now), as out-of-band.
    expect(await log.next(crashed, crashedSeen, 'STOPPED', RECOVERY_MS)).toMatchObject({ cause: 'out-of-band', powerState: 'SHUTDOWN' });
    await new Promise((r) => setTimeout(r, 2_000));
    expect(log.all.slice(seen).filter((e) => e.uuid !== crashed)).toEqual([]);

    // What the orchestrator asked for before the restart.
    await driver.restoreState(running, 'RUNNING'); // no-op
    await driver.restoreState(paused, 'PAUSED'); // no-op
    await driver.restoreState(stopped.uuid, 'SHUTDOWN'); // no-op
    await driver.restoreState(saved, 'SUSPENDED'); // no-op: the image stays
    await driver.restoreState(sleeping, 'RUNNING'); // woken
    await driver.restoreState(crashed, 'RUNNING'); // booted
    expect({
      running: await state(running),
      paused: await state(paused),
      stopped: await state(stopped.uuid),
      saved: await state(saved),
      sleeping: await state(sleeping),
      crashed: await state(crashed),
    }).toEqual({ running: 'RUNNING', paused: 'PAUSED', stopped: 'SHUTDOWN', saved: 'SUSPENDED', sleeping: 'RUNNING', crashed: 'RUNNING' });
    expect(await qemuPid(running)).toBe(runningQemu);
    expect(await hasImage(saved)).toBe(true);
    await waitConsole(driver, sleeping, /NOVA-GUEST: WOKE/);
    expect(await boots(driver, sleeping)).toBe(1);
    await waitConsole(driver, crashed, /NOVA-GUEST: BOOTED[\s\S]*NOVA-GUEST: BOOTED/);

    // The driver reconnected by itself, events included: its own calls arrive as requested.
    const before = log.count(paused);
    await driver.restoreState(paused, 'RUNNING');
    expect(await log.next(paused, before, 'RESUMED', 2_000)).toMatchObject({ cause: 'requested', powerState: 'RUNNING' });
    // The saved guest restores into the same boot, paused first (QEMU's start paused), then running.
    await driver.restoreState(saved, 'PAUSED');
    expect(await state(saved)).toBe('PAUSED');
    expect(await hasImage(saved)).toBe(false); // restored: libvirt removes the image it started from
    await driver.restoreState(saved, 'RUNNING');
    expect(await boots(driver, saved)).toBe(1);

    await Promise.all([running, paused, stopped.uuid, saved, sleeping, crashed].map((uuid) => driver.destroy(uuid)));
  }, 300_000);
});

describe('after the host restarts (guests are gone)', () => {
  it('keeps definitions and saved images, and restoreState brings each instance to what was asked without losing or inventing an image', async () => {
    const stopped = guestSpec({ powerOn: false });
    await driver.spawn(stopped);
    const [running, paused, saved, savedPaused, sleeping] = await Promise.all([
      bootedGuest(driver),
      bootedGuest(driver),
      bootedGuest(driver),
      bootedGuest(driver),
      sleepingGuest(),
    ]);
    await driver.pause(paused);
    await driver.suspend(saved);
    await driver.pause(savedPaused);
    await driver.restoreState(savedPaused, 'SUSPENDED'); // a paused guest saved: it will resume running

    await new Promise((r) => setTimeout(r, 1_000)); // the last events of the setup are in
    const seen = log.all.length;
    await hooks.restartHost!();

    const after = {
      running: await state(running),
      paused: await state(paused),
      stopped: await state(stopped.uuid),
      saved: await state(saved),
      savedPaused: await state(savedPaused),
      sleeping: await state(sleeping),
    };
    // Guests that ran are off: libvirt found their QEMU gone (CRASHED) or just shut off.
    for (const s of [after.running, after.paused, after.sleeping]) expect(['CRASHED', 'SHUTDOWN']).toContain(s);
    expect({ stopped: after.stopped, saved: after.saved, savedPaused: after.savedPaused }).toEqual({ stopped: 'SHUTDOWN', saved: 'SUSPENDED', savedPaused: 'SUSPENDED' });
    // Listeners hear of the guests that went away, out-of-band, with the state getInfo reports.
    for (const [uuid, s] of [[running, after.running], [paused, after.paused], [sleeping, after.sleeping]] as const) {
      const e = await waitUntil('an event for a guest the host restart stopped', async () => log.all.slice(seen).find((x) => x.uuid === uuid), RECOVERY_MS, 50);
      expect(e).toMatchObject({ cause: 'out-of-band', powerState: s, kind: s === 'CRASHED' ? 'CRASHED' : 'STOPPED' });
    }
    expect(log.all.slice(seen).filter((e) => ![running, paused, sleeping].includes(e.uuid))).toEqual([]);

    // Never invent a saved image, never discard one.
    await expect(driver.restoreState(running, 'SUSPENDED')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(driver.restoreState(saved, 'SHUTDOWN')).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'SUSPENDED' });
    expect(await hasImage(saved)).toBe(true);

    await driver.restoreState(running, 'RUNNING');
    await driver.restoreState(paused, 'PAUSED');
    await driver.restoreState(stopped.uuid, 'SHUTDOWN');
    await driver.restoreState(saved, 'RUNNING');
    await driver.restoreState(savedPaused, 'RUNNING');
    await driver.restoreState(sleeping, 'SHUTDOWN');
    expect({
      running: await state(running),
      paused: await state(paused),
      stopped: await state(stopped.uuid),
      saved: await state(saved),
      savedPaused: await state(savedPaused),
      sleeping: await state(sleeping),
    }).toEqual({ running: 'RUNNING', paused: 'PAUSED', stopped: 'SHUTDOWN', saved: 'RUNNING', savedPaused: 'RUNNING', sleeping: 'SHUTDOWN' });
    // The saved guests continue the boot they were in; the others boot again.
    expect(await boots(driver, saved)).toBe(1);
    expect(await boots(driver, savedPaused)).toBe(1);
    await waitConsole(driver, running, /NOVA-GUEST: BOOTED[\s\S]*NOVA-GUEST: BOOTED/);
    // Restoring again changes nothing (idempotent).
    await driver.restoreState(running, 'RUNNING');
    await driver.restoreState(paused, 'PAUSED');
    expect(await state(paused)).toBe('PAUSED');

    await Promise.all([running, paused, stopped.uuid, saved, savedPaused, sleeping].map((uuid) => driver.destroy(uuid)));
  }, 300_000);
});
