import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver } from '@nova-common/core';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { GUEST_DIR, SOCKET, requireGuest, requireLibvirtd } from './helpers/backend.js';
import { guestSpec, qemuConfig, waitConsole } from './helpers/qemu.js';

/**
 * extendVolume on a real QEMU guest under TCG: the guest's disk grows (the guest reports the new
 * size in sectors on its console), the volume file on the host grows with it, getInfo reports
 * the new size; a stopped guest's file is grown on the host and the guest sees the size at boot.
 */
const VOLUMES = `${GUEST_DIR}/volumes`;
const GIB_SECTORS = (1024 * 1024 * 1024) / 512;
let driver: GuardedDriver;
const made: string[] = [];
/** Loop devices this file attached (block volumes). */
const loops: string[] = [];

beforeAll(async () => {
  await requireLibvirtd('qemu:///system');
  requireGuest();
  driver = guard(createLibvirtDriver(qemuConfig('extendvol-', { kernelArgs: 'console=ttyS0 panic=-1', acpiShutdownTimeoutMs: 60_000, deviceAllowlist: ['/dev/loop*'] })));
  await driver.initHost();
  await mkdir(VOLUMES, { recursive: true });
});

afterAll(async () => {
  for (const uuid of made) await driver?.destroy(uuid).catch(() => undefined);
  await driver?.cleanupHost();
  for (const dev of loops) execFileSync('losetup', ['--detach', dev]);
  for (const uuid of made) await rm(`${VOLUMES}/extend-${uuid}.img`, { force: true });
});

describe('extendVolume on QEMU', () => {
  it('is declared on QEMU', async () => {
    expect((await driver.getCapabilities()).capabilities['operation.extend-volume']?.level).toBe('complete');
  });

  it('grows a running guest’s disk and its file, refuses to shrink it, and a stopped guest sees the size it was given at boot', async () => {
    const s = guestSpec();
    made.push(s.uuid);
    await driver.spawn(s);
    await waitConsole(driver, s.uuid, /NOVA-GUEST: READY/);
    const volumeId = randomUUID();
    const path = `${VOLUMES}/extend-${s.uuid}.img`;
    await writeFile(path, '');
    await truncate(path, 8 * 1024 * 1024);
    await driver.attachVolume(s.uuid, { volumeId, connectionInfo: { driverVolumeType: 'file', path }, sizeGb: 1 });
    await waitConsole(driver, s.uuid, /NOVA-GUEST: BLOCK\+ vdb sectors=16384/);

    await driver.extendVolume(s.uuid, volumeId, 2);
    await waitConsole(driver, s.uuid, new RegExp(`NOVA-GUEST: SIZE vdb sectors=${2 * GIB_SECTORS}`));
    expect(statSync(path).size).toBe(2 * 1024 ** 3);
    expect((await driver.getInfo(s.uuid)).volumes).toEqual([{ volumeId, sizeGb: 2 }]);

    const shrink = await driver.extendVolume(s.uuid, volumeId, 1).catch((e: unknown) => e);
    expect(shrink).toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: ['newSizeGb'] }] });
    expect(statSync(path).size).toBe(2 * 1024 ** 3);
    await expect(driver.extendVolume(s.uuid, randomUUID(), 3)).rejects.toMatchObject({ code: 'VOLUME_NOT_ATTACHED' });

    await driver.powerOff(s.uuid, { gracefulTimeoutMs: 0 });
    await driver.extendVolume(s.uuid, volumeId, 3);
    expect(statSync(path).size).toBe(3 * 1024 ** 3);
    expect((await driver.getInfo(s.uuid)).volumes).toEqual([{ volumeId, sizeGb: 3 }]);
    await driver.powerOn(s.uuid);
    await waitConsole(driver, s.uuid, new RegExp(`NOVA-GUEST: BLOCK\\+ vdb sectors=${3 * GIB_SECTORS}`));
  });

  it('a volume whose file the host already holds larger is never shrunk', async () => {
    const s = guestSpec({ powerOn: false });
    made.push(s.uuid);
    await driver.spawn(s);
    const volumeId = randomUUID();
    const path = `${VOLUMES}/extend-${s.uuid}.img`;
    await writeFile(path, '');
    await truncate(path, 3 * 1024 ** 3);
    await driver.attachVolume(s.uuid, { volumeId, connectionInfo: { driverVolumeType: 'file', path } });
    await expect(driver.extendVolume(s.uuid, volumeId, 2)).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: ['newSizeGb'] }] });
    expect(statSync(path).size).toBe(3 * 1024 ** 3);
    expect((await driver.getInfo(s.uuid)).volumes).toEqual([{ volumeId }]);
  });

  it('a block device volume: past the device’s size is refused; once the volume service grew the device, the guest sees it', async () => {
    const s = guestSpec();
    made.push(s.uuid);
    await driver.spawn(s);
    await waitConsole(driver, s.uuid, /NOVA-GUEST: READY/);
    const backing = `${VOLUMES}/extend-${s.uuid}.img`;
    await writeFile(backing, '');
    await truncate(backing, 1024 ** 3);
    const dev = execFileSync('losetup', ['--find', '--show', backing], { encoding: 'utf8' }).trim();
    loops.push(dev);
    const volumeId = randomUUID();
    await driver.attachVolume(s.uuid, { volumeId, connectionInfo: { driverVolumeType: 'block', devicePath: dev }, sizeGb: 1 });
    await waitConsole(driver, s.uuid, new RegExp(`NOVA-GUEST: BLOCK\\+ vdb sectors=${GIB_SECTORS}`));

    const early = await driver.extendVolume(s.uuid, volumeId, 2).catch((e: unknown) => e);
    expect(early).toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: ['newSizeGb'], message: expect.stringContaining(dev) }] });
    expect((await driver.getInfo(s.uuid)).volumes).toEqual([{ volumeId, sizeGb: 1 }]);

    // What the volume service does first: the volume grows (the loop device's backing file), the host sees it.
    await truncate(backing, 2 * 1024 ** 3);
    execFileSync('losetup', ['--set-capacity', dev]);
    await driver.extendVolume(s.uuid, volumeId, 2);
    await waitConsole(driver, s.uuid, new RegExp(`NOVA-GUEST: SIZE vdb sectors=${2 * GIB_SECTORS}`));
    expect((await driver.getInfo(s.uuid)).volumes).toEqual([{ volumeId, sizeGb: 2 }]);
  });
});
