import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver } from '@nova-common/core';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { LibvirtDriverConfigSchema } from '../src/config.js';
import { requireGuest, requireLibvirtd, SOCKET } from './helpers/backend.js';
import { guestSpec, qemuConfig } from './helpers/qemu.js';

/**
 * A destroy whose process died between libvirt's undefine and the removal of the instance's
 * files (an agent SIGKILLed there) leaves the directory with no domain: the retried destroy
 * finds no instance, and must still take the files, or they stay on the host for good.
 */
const PREFIX = 'leftoverf-';
const config = LibvirtDriverConfigSchema.parse(qemuConfig(PREFIX));
let driver: GuardedDriver;
const daemon = new LibvirtClient({ socketPath: SOCKET, uri: 'qemu:///system', keepaliveIntervalMs: 0 });
const made: string[] = [];

beforeAll(async () => {
  await requireLibvirtd('qemu:///system');
  requireGuest();
  await daemon.connect();
  driver = guard(createLibvirtDriver(config));
  await driver.initHost();
});

afterAll(async () => {
  for (const uuid of made) {
    await driver?.destroy(uuid).catch(() => undefined);
    await rm(join(config.instancesDir, uuid), { recursive: true, force: true });
  }
  await driver?.cleanupHost();
  await daemon.close().catch(() => undefined);
});

describe('destroy of an instance whose domain is gone but whose files are left', () => {
  it('removes the instance directory the interrupted destroy left', async () => {
    const s = guestSpec({ powerOn: false });
    made.push(s.uuid);
    await driver.spawn(s);
    const dir = join(config.instancesDir, s.uuid);
    expect(existsSync(dir)).toBe(true);
    // What the interrupted destroy did before its process died: the domain undefined, the files not yet removed.
    const [domain] = (await daemon.listAllDomains(0)).filter((d) => d.name.startsWith(`${PREFIX}${s.uuid}`));
    expect(domain).toBeDefined();
    await daemon.undefine(domain!);

    await driver.destroy(s.uuid);
    expect(existsSync(dir)).toBe(false);
    await expect(driver.getInfo(s.uuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
  });

  it('leaves the directory of a uuid another domain holds', async () => {
    // A domain not named like this driver's holds the uuid: not an instance of ours, and its files are not ours to take.
    const uuid = randomUUID();
    const dir = join(config.instancesDir, uuid);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'keep'), 'x');
    const foreign = await daemon.defineXml(`<domain type='qemu'><name>other-${uuid}</name><uuid>${uuid}</uuid><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>`);
    try {
      await driver.destroy(uuid);
      expect(existsSync(join(dir, 'keep'))).toBe(true);
    } finally {
      await daemon.undefine(foreign).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
