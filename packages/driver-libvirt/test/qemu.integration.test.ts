import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver } from '@nova-common/core';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { GUEST_IMAGE_ID } from '../src/fixtures/conformance-fixtures.js';
import { GUEST_DIR, INITRD, KERNEL, SOCKET, requireGuest, requireLibvirtd, waitUntil } from './helpers/backend.js';

/**
 * Real QEMU guests under TCG (the tiny guest from scripts/guest/build.sh): effects the guest
 * itself sees, read from its serial console log.
 */

const VOLUMES = `${GUEST_DIR}/volumes`;
let driver: GuardedDriver;
const made: string[] = [];

beforeAll(async () => {
  await requireLibvirtd('qemu:///system');
  requireGuest();
  driver = guard(
    createLibvirtDriver({
      uri: 'qemu:///system',
      socketPath: SOCKET,
      kernel: KERNEL,
      initrd: INITRD,
      kernelArgs: 'console=ttyS0 panic=-1',
      acpiShutdownTimeoutMs: 60_000,
      softRebootTimeoutMs: 60_000,
    }),
  );
  await driver.initHost();
});

afterAll(async () => {
  for (const uuid of made) await driver?.destroy(uuid).catch(() => undefined);
  await driver?.cleanupHost();
  await rm(VOLUMES, { recursive: true, force: true });
});

async function console(uuid: string): Promise<string> {
  return (await driver.getConsoleOutput(uuid)).output;
}

function waitConsole(uuid: string, marker: RegExp, timeoutMs = 90_000): Promise<string> {
  return waitUntil(`console marker ${marker}`, async () => {
    const out = await console(uuid);
    return marker.test(out) ? out : undefined;
  }, timeoutMs, 250);
}

describe('QEMU guest: guest-visible effects', () => {
  it('declares hot-plug and the console log on QEMU', async () => {
    const caps = await driver.getCapabilities();
    expect(caps.capabilities['operation.attach-volume']?.level).toBe('complete');
    expect(caps.capabilities['operation.detach-interface']?.level).toBe('complete');
    expect(caps.capabilities['console.serial.log']?.level).toBe('complete');
    expect(caps.volumeTransports).toEqual(['file', 'block']);
  });

  it('boots, sees a hot-plugged disk and NIC, loses them on detach, and shuts down on ACPI', async () => {
    const uuid = randomUUID();
    made.push(uuid);
    await driver.spawn({
      uuid,
      name: 'guest <one> & "two"',
      flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 128, rootGb: 1 },
      image: { id: GUEST_IMAGE_ID, diskFormat: 'raw', containerFormat: 'bare' },
      metadata: { purpose: 'qemu test' },
    });
    const boot = await waitConsole(uuid, /NOVA-GUEST: READY/);
    expect(boot).toMatch(/NOVA-GUEST: BOOTED kernel=/);
    expect(boot).toMatch(/NOVA-GUEST: BLOCK\+ vda/); // its root disk

    await mkdir(VOLUMES, { recursive: true });
    const volumeId = randomUUID();
    const path = `${VOLUMES}/${volumeId}.img`;
    await writeFile(path, '');
    await truncate(path, 8 * 1024 * 1024);
    await driver.attachVolume(uuid, { volumeId, connectionInfo: { driverVolumeType: 'file', path } });
    await waitConsole(uuid, /NOVA-GUEST: BLOCK\+ vdb/);
    expect((await driver.getInfo(uuid)).volumes).toEqual([{ volumeId }]);
    await expect(driver.attachVolume(uuid, { volumeId, connectionInfo: { driverVolumeType: 'file', path } })).rejects.toMatchObject({ code: 'VOLUME_ALREADY_ATTACHED' });

    const vifId = randomUUID();
    await driver.attachInterface(uuid, { id: vifId, address: 'FA:16:3E:12:34:56', network: { id: 'test-net' } });
    await waitConsole(uuid, /NOVA-GUEST: NET\+ eth0/);
    expect((await driver.getInfo(uuid)).interfaces).toEqual([{ id: vifId, address: 'FA:16:3E:12:34:56' }]);

    await driver.detachVolume(uuid, volumeId);
    await waitConsole(uuid, /NOVA-GUEST: BLOCK- vdb/);
    expect((await driver.getInfo(uuid)).volumes).toEqual([]);
    await expect(driver.detachVolume(uuid, volumeId)).rejects.toMatchObject({ code: 'VOLUME_NOT_ATTACHED' });

    await driver.detachInterface(uuid, vifId);
    await waitConsole(uuid, /NOVA-GUEST: NET- eth0/);
    expect((await driver.getInfo(uuid)).interfaces).toEqual([]);

    // ACPI power-off: the guest's own acpid hook runs (it prints the marker) well before the
    // driver's 60 s fallback to a forced stop.
    const t0 = Date.now();
    await driver.powerOff(uuid);
    expect(Date.now() - t0).toBeLessThan(55_000);
    expect(await console(uuid)).toMatch(/NOVA-GUEST: ACPI-POWEROFF/);
    expect((await driver.getInfo(uuid)).powerState).toBe('SHUTDOWN');

    await driver.destroy(uuid);
    await expect(driver.getInfo(uuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
    expect(existsSync(`/var/lib/libvirt/images/nova-common/instances/${uuid}`)).toBe(false);
  });

  it('suspends to a managed save and resumes the same guest (no reboot)', async () => {
    const uuid = randomUUID();
    made.push(uuid);
    await driver.spawn({
      uuid,
      name: 'suspender',
      flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 128, rootGb: 1 },
      image: { id: GUEST_IMAGE_ID, diskFormat: 'raw', containerFormat: 'bare' },
    });
    await waitConsole(uuid, /NOVA-GUEST: READY/);
    // A second spawn of the same uuid is refused and leaves this instance's files alone.
    const disk = `/var/lib/libvirt/images/nova-common/instances/${uuid}/disk`;
    const before = statSync(disk);
    await expect(
      driver.spawn({ uuid, name: 'again', flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 128, rootGb: 1 }, image: { id: GUEST_IMAGE_ID, diskFormat: 'raw', containerFormat: 'bare' } }),
    ).rejects.toMatchObject({ code: 'INSTANCE_EXISTS' });
    expect(statSync(disk)).toMatchObject({ ino: before.ino, mtimeMs: before.mtimeMs, size: before.size });
    expect((await driver.getInfo(uuid)).powerState).toBe('RUNNING');
    await driver.suspend(uuid);
    expect((await driver.getInfo(uuid)).powerState).toBe('SUSPENDED');
    await driver.resume(uuid);
    expect((await driver.getInfo(uuid)).powerState).toBe('RUNNING');
    // Restored from memory: the kernel did not boot a second time.
    expect((await console(uuid)).match(/NOVA-GUEST: BOOTED/g)?.length).toBe(1);
    await driver.destroy(uuid);
  });
});
