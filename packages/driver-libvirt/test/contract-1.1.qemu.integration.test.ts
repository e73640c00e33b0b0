import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver } from '@nova-common/core';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { LibvirtDriverConfigSchema } from '../src/config.js';
import { GUEST_IMAGE_ID, libvirtConformanceFixtures } from '../src/fixtures/conformance-fixtures.js';
import type { LibvirtBackendHooks } from '../src/fixtures/backend-hooks.js';
import { requireGuest, requireLibvirtd } from './helpers/backend.js';
import { EventLog, bootedGuest, boots, guestSpec, qemuConfig, waitConsole } from './helpers/qemu.js';

/**
 * Contract 1.1 on real QEMU/TCG guests: the changed cells that need a guest (detach while
 * paused, power off of a paused guest, a soft reboot cancelled by a hard reboot or a destroy),
 * the crash hook reaching CRASHED, transitions nobody asked for (the guest shuts itself down
 * or goes to sleep, an operator powers it off) reaching listeners as out-of-band, and
 * snapshots of a suspended guest found on the backend.
 */

const PREFIX = 'v11q-';
const config = LibvirtDriverConfigSchema.parse(qemuConfig(PREFIX, { acpiShutdownTimeoutMs: 60_000 }));
const fixtures = libvirtConformanceFixtures(config);
const hooks = fixtures.backend as LibvirtBackendHooks;
const log = new EventLog();
let driver: GuardedDriver;
let delivery = 0;
const drivers: GuardedDriver[] = [];

/** Another driver on the same prefix with its own configuration (a guest that sleeps, one without a kernel). */
async function driverWith(over: Record<string, unknown>): Promise<GuardedDriver> {
  const d = guard(createLibvirtDriver(qemuConfig(PREFIX, over)));
  await d.initHost();
  drivers.push(d);
  return d;
}

beforeAll(async () => {
  await requireLibvirtd('qemu:///system');
  requireGuest();
  driver = guard(createLibvirtDriver(config));
  await driver.initHost();
  driver.subscribeEvents(log.listener);
  delivery = (await driver.getCapabilities()).eventualConsistency.eventDeliveryMs;
});

afterAll(async () => {
  for (const i of (await driver?.listInstances().catch(() => [])) ?? []) await driver.destroy(i.uuid).catch(() => undefined);
  for (const d of drivers) await d.cleanupHost();
  await driver?.cleanupHost();
  await fixtures.cleanup?.();
});

describe('what the driver declares for 1.1 on QEMU', () => {
  it('declares restoreState, listSnapshots and out-of-band events complete, and offers the hooks QEMU can honour', async () => {
    const caps = await driver.getCapabilities();
    for (const id of ['operation.restore-state', 'operation.list-snapshots', 'event.out-of-band'] as const) expect(caps.capabilities[id]?.level).toBe('complete');
    expect(typeof hooks.crash).toBe('function');
    expect(typeof hooks.powerOffOutOfBand).toBe('function');
    expect(typeof hooks.restartBackend).toBe('function');
    // libvirt shows NOSTATE only in passing: nothing leaves a domain there on demand.
    expect(hooks.loseState).toBeUndefined();
  });
});

describe('cells changed in 1.1 that need a guest', () => {
  it('R-DETACHVOLUME-PAUSED, R-DETACHINTERFACE-PAUSED: a paused guest keeps its devices (INVALID_STATE); unpaused, it lets them go', async () => {
    const volumeId = randomUUID();
    const vifId = randomUUID();
    const connectionInfo = await fixtures.volumeConnection!(volumeId);
    const uuid = await bootedGuest(driver, {
      blockDeviceInfo: { volumes: [{ volumeId, connectionInfo, diskBus: 'virtio' }] },
      networkInfo: [{ id: vifId, address: 'fa:16:3e:00:11:22', network: { id: 'net' } }],
    });
    await driver.pause(uuid);
    await expect(driver.detachVolume(uuid, volumeId)).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'PAUSED' });
    await expect(driver.detachInterface(uuid, vifId)).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'PAUSED' });
    expect(await driver.getInfo(uuid)).toMatchObject({ powerState: 'PAUSED', volumes: [{ volumeId }], interfaces: [{ id: vifId }] });
    await driver.unpause(uuid);
    await driver.detachVolume(uuid, volumeId);
    await waitConsole(driver, uuid, /NOVA-GUEST: BLOCK- vdb/);
    await driver.detachInterface(uuid, vifId);
    await waitConsole(driver, uuid, /NOVA-GUEST: NET- eth0/);
    expect(await driver.getInfo(uuid)).toMatchObject({ volumes: [], interfaces: [] });
    await driver.destroy(uuid);
  });

  it('R-POWER-OFF-PAUSED-FORCED: a paused guest is forced off at once, whatever gracefulTimeoutMs says', async () => {
    const uuid = await bootedGuest(driver);
    await driver.pause(uuid);
    // Ten minutes of graceful wait asked; the test's own timeout is two.
    await driver.powerOff(uuid, { gracefulTimeoutMs: 600_000 });
    expect((await driver.getInfo(uuid)).powerState).toBe('SHUTDOWN');
    // Forced: the guest's ACPI handler never ran.
    expect((await driver.getConsoleOutput(uuid)).output).not.toMatch(/ACPI-POWEROFF/);
    await driver.destroy(uuid);
  });

  it('R-REBOOT-PREEMPT: a hard reboot, then a destroy, cancel a soft reboot the guest ignores, and the driver lets go at once', async () => {
    // No kernel: the firmware finds nothing to boot and ignores ACPI, so a soft reboot would wait its full ten minutes.
    const deaf = await driverWith({ kernel: undefined, initrd: undefined, softRebootTimeoutMs: 600_000 });
    const s = guestSpec();
    await deaf.spawn(s);
    const soft = deaf.reboot(s.uuid, 'SOFT').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 1_000));
    await deaf.reboot(s.uuid, 'HARD');
    expect(await soft).toMatchObject({ code: 'CANCELLED' });
    expect((await deaf.getInfo(s.uuid)).powerState).toBe('RUNNING');

    const again = deaf.reboot(s.uuid, 'SOFT').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 1_000));
    await deaf.destroy(s.uuid);
    expect(await again).toMatchObject({ code: 'CANCELLED' });
    await expect(deaf.getInfo(s.uuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
  });

  it('R-REBUILD-SHUTDOWN: a rebuilt stopped guest stays stopped; a crashed one runs again', async () => {
    const stopped = guestSpec({ powerOn: false });
    await driver.spawn(stopped);
    await driver.rebuild(stopped.uuid, { image: { id: GUEST_IMAGE_ID, diskFormat: 'raw', containerFormat: 'bare' } });
    expect((await driver.getInfo(stopped.uuid)).powerState).toBe('SHUTDOWN');
    expect(await boots(driver, stopped.uuid)).toBe(0);
    const crashed = await bootedGuest(driver);
    await hooks.crash!(crashed);
    await driver.rebuild(crashed, { image: { id: GUEST_IMAGE_ID, diskFormat: 'raw', containerFormat: 'bare' } });
    expect((await driver.getInfo(crashed)).powerState).toBe('RUNNING');
    await driver.destroy(stopped.uuid);
    await driver.destroy(crashed);
  });

  it('R-REBUILD-CRASHED: a guest that crashed in rescue comes back from a rebuild in normal mode, its rescue disk gone', async () => {
    const uuid = await bootedGuest(driver);
    await driver.rescue(uuid, {});
    expect((await driver.getInfo(uuid)).mode).toBe('rescue');
    await hooks.crash!(uuid);
    expect((await driver.getInfo(uuid)).powerState).toBe('CRASHED');
    await driver.rebuild(uuid, { image: { id: GUEST_IMAGE_ID, diskFormat: 'raw', containerFormat: 'bare' } });
    const info = await driver.getInfo(uuid);
    expect({ powerState: info.powerState, mode: info.mode }).toEqual({ powerState: 'RUNNING', mode: 'normal' });
    expect(existsSync(`${config.instancesDir}/${uuid}/disk.rescue`)).toBe(false);
    await driver.destroy(uuid);
  });
});

describe('CRASHED through the crash hook', () => {
  it('a killed QEMU is CRASHED, with an out-of-band CRASHED event; power off acknowledges it, power on boots it', async () => {
    const uuid = await bootedGuest(driver);
    const seen = log.count(uuid);
    await hooks.crash!(uuid);
    expect((await driver.getInfo(uuid)).powerState).toBe('CRASHED');
    expect(await log.next(uuid, seen, 'CRASHED', delivery)).toMatchObject({ cause: 'out-of-band', powerState: 'CRASHED' });
    await driver.powerOff(uuid);
    expect((await driver.getInfo(uuid)).powerState).toBe('SHUTDOWN');
    await driver.powerOn(uuid);
    await waitConsole(driver, uuid, /NOVA-GUEST: BOOTED[\s\S]*NOVA-GUEST: BOOTED[\s\S]*READY/);
    expect((await driver.getInfo(uuid)).powerState).toBe('RUNNING');
    // A paused guest's QEMU killed is CRASHED too, and power on boots it from there.
    await driver.pause(uuid);
    await hooks.crash!(uuid);
    expect((await driver.getInfo(uuid)).powerState).toBe('CRASHED');
    await driver.powerOn(uuid);
    expect((await driver.getInfo(uuid)).powerState).toBe('RUNNING');
    await driver.destroy(uuid);
  });

  it('the hook reaches CRASHED from every state (a stopped or saved machine dies as it is powered on)', async () => {
    const stopped = guestSpec({ powerOn: false });
    await driver.spawn(stopped);
    const saved = await bootedGuest(driver);
    await driver.suspend(saved);
    for (const uuid of [stopped.uuid, saved]) {
      await hooks.crash!(uuid);
      expect((await driver.getInfo(uuid)).powerState).toBe('CRASHED');
      await driver.destroy(uuid);
    }
  });
});

describe('transitions nobody asked for (R-EVENT-OUT-OF-BAND)', () => {
  it('the guest powering itself off is an out-of-band STOPPED, and getInfo says SHUTDOWN', async () => {
    const selfStopping = await driverWith({ kernelArgs: 'console=ttyS0 nova.poweroff=3' });
    const uuid = await bootedGuest(selfStopping);
    const e = await log.next(uuid, 0, 'STOPPED', 60_000);
    expect(e).toMatchObject({ cause: 'out-of-band', powerState: 'SHUTDOWN' });
    expect((await driver.getInfo(uuid)).powerState).toBe('SHUTDOWN');
    expect((await driver.getConsoleOutput(uuid)).output).toMatch(/NOVA-GUEST: SELF-POWEROFF/);
    await driver.destroy(uuid);
  });

  it('a guest that put itself to sleep is SUSPENDED (out-of-band), and resume wakes it (requested)', async () => {
    const sleepy = await driverWith({ kernelArgs: 'console=ttyS0 nova.sleep=3' });
    const uuid = await bootedGuest(sleepy);
    expect(await log.next(uuid, 0, 'SUSPENDED', 60_000)).toMatchObject({ cause: 'out-of-band', powerState: 'SUSPENDED' });
    expect((await driver.getInfo(uuid)).powerState).toBe('SUSPENDED');
    await driver.suspend(uuid); // already SUSPENDED: a no-op
    await expect(driver.powerOff(uuid)).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'SUSPENDED' });
    const seen = log.count(uuid);
    await driver.resume(uuid);
    expect((await driver.getInfo(uuid)).powerState).toBe('RUNNING');
    await waitConsole(driver, uuid, /NOVA-GUEST: WOKE/);
    expect(await log.next(uuid, seen, 'STARTED', delivery)).toMatchObject({ cause: 'requested', powerState: 'RUNNING' });
    expect(await boots(driver, uuid)).toBe(1); // woken, not rebooted
    await driver.destroy(uuid);
  });

  it('an operator powering the guest off (the powerOffOutOfBand hook) is an out-of-band STOPPED', async () => {
    const uuid = await bootedGuest(driver);
    const seen = log.count(uuid);
    await hooks.powerOffOutOfBand!(uuid);
    expect((await driver.getInfo(uuid)).powerState).toBe('SHUTDOWN');
    expect(await log.next(uuid, seen, 'STOPPED', delivery)).toMatchObject({ cause: 'out-of-band', powerState: 'SHUTDOWN' });
    await driver.destroy(uuid);
  });

  it('the driver\'s own transitions are requested', async () => {
    const uuid = await bootedGuest(driver);
    const seen = log.count(uuid);
    await driver.pause(uuid);
    await driver.unpause(uuid);
    await driver.powerOff(uuid, { gracefulTimeoutMs: 0 });
    for (const kind of ['PAUSED', 'RESUMED', 'STOPPED'] as const) expect(await log.next(uuid, seen, kind, delivery)).toMatchObject({ cause: 'requested' });
    expect(log.all.filter((e) => e.uuid === uuid).slice(seen).every((e) => e.cause === 'requested')).toBe(true);
    await driver.destroy(uuid);
  });
});

describe('snapshots of a suspended guest (R-SNAPSHOT-SUSPENDED, R-SNAPSHOT-LIST)', () => {
  it('copies the disk of a suspended guest, keeps it suspended, and lists the image from the backend in any session', async () => {
    const uuid = await bootedGuest(driver);
    const first = await driver.snapshot(uuid, { name: 'running' });
    await driver.suspend(uuid);
    const second = await driver.snapshot(uuid, { name: 'suspended' });
    expect((await driver.getInfo(uuid)).powerState).toBe('SUSPENDED');
    // The root disk was grown to the flavor's 1 GiB at spawn; the copy is that disk (sparse).
    expect(second).toMatchObject({ name: 'suspended', diskFormat: 'raw', containerFormat: 'bare', sizeBytes: 1024 ** 3 });
    const image = `${config.imageDir}/${second.imageId}`;
    expect(existsSync(image)).toBe(true);
    expect(await driver.listSnapshots()).toEqual([first, second]);
    const other = await driverWith({});
    expect(await other.listSnapshots()).toEqual([first, second]);
    // The saved memory image was not touched: resume continues the same boot.
    await driver.resume(uuid);
    expect(await boots(driver, uuid)).toBe(1);
    // Snapshots outlive their instance; deleteSnapshot removes them.
    await driver.destroy(uuid);
    expect(await driver.listSnapshots()).toEqual([first, second]);
    await driver.deleteSnapshot(first.imageId);
    await driver.deleteSnapshot(second.imageId);
    expect(await driver.listSnapshots()).toEqual([]);
    expect(existsSync(image)).toBe(false);
    await rm(`${image}.meta.json`, { force: true });
  });
});
