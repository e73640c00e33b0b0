import { spawn as spawnProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver } from '@nova-common/core';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { DRIVER_NAME } from '../src/driver-name.js';
import { SPAWN_CLAIM_FILE } from '../src/driver/spawn-claim.js';
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

/** Another process on this host, alive until killed, and its holder string (core's currentHolder, as its spawn would write it). */
async function otherProcess(): Promise<{ holder: string; kill: () => Promise<void> }> {
  const child = spawnProcess(process.execPath, ['--input-type=module', '-e', "const c = await import('@nova-common/core'); console.log(c.currentHolder()); setInterval(() => {}, 1e9);"], {
    cwd: join(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const holder = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (b: Buffer) => resolve(b.toString().trim()));
    child.once('exit', (code) => reject(new Error(`the holder process exited with ${code}`)));
  });
  expect(holder).toMatch(/^h1:/);
  return {
    holder,
    kill: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

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

describe('a spawn in flight in another process (its claim in the instance directory)', () => {
  it('keeps its files from a destroy and refuses a second spawn while that process lives; once it has died, destroy takes them', async () => {
    const uuid = randomUUID();
    made.push(uuid);
    const dir = join(config.instancesDir, uuid);
    const other = await otherProcess();
    try {
      // What the other process's spawn has made so far: its claim and a disk, no domain yet.
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, SPAWN_CLAIM_FILE), other.holder);
      await writeFile(join(dir, 'disk'), 'the other spawn');
      await driver.destroy(uuid);
      expect(existsSync(join(dir, 'disk'))).toBe(true);
      await expect(driver.spawn(guestSpec({ uuid, powerOn: false }))).rejects.toMatchObject({ code: 'INSTANCE_EXISTS' });
      expect(existsSync(join(dir, 'disk'))).toBe(true);
      expect(existsSync(join(dir, SPAWN_CLAIM_FILE))).toBe(true);
    } finally {
      await other.kill();
    }
    await driver.destroy(uuid);
    expect(existsSync(dir)).toBe(false);
  });

  it('takes over the claim of a spawn whose process died, spawns, and leaves no claim behind', async () => {
    const s = guestSpec({ powerOn: false });
    made.push(s.uuid);
    const dir = join(config.instancesDir, s.uuid);
    const other = await otherProcess();
    await other.kill();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, SPAWN_CLAIM_FILE), other.holder);
    await driver.spawn(s);
    expect((await driver.getInfo(s.uuid)).powerState).toBe('SHUTDOWN');
    expect(existsSync(join(dir, SPAWN_CLAIM_FILE))).toBe(false);
    await driver.destroy(s.uuid);
    expect(existsSync(dir)).toBe(false);
  });

  it('a spawn refused as a duplicate leaves the existing instance its files, and no claim', async () => {
    const s = guestSpec({ powerOn: false });
    made.push(s.uuid);
    await driver.spawn(s);
    const dir = join(config.instancesDir, s.uuid);
    await expect(driver.spawn(s)).rejects.toMatchObject({ code: 'INSTANCE_EXISTS' });
    expect(existsSync(dir)).toBe(true);
    expect(existsSync(join(dir, SPAWN_CLAIM_FILE))).toBe(false);
    expect((await driver.getInfo(s.uuid)).powerState).toBe('SHUTDOWN');
    await driver.destroy(s.uuid);
  });
});

describe('a migration to this host and a spawn in flight here', () => {
  it('preparing the arrival of a uuid another live process is spawning is INSTANCE_EXISTS (an abort would take its files)', async () => {
    const s = guestSpec({ powerOn: false });
    made.push(s.uuid);
    const dir = join(config.instancesDir, s.uuid);
    const other = await otherProcess();
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, SPAWN_CLAIM_FILE), other.holder);
      await expect(driver.prepareMigration({ migrationId: randomUUID(), kind: 'COLD', sourceDriver: DRIVER_NAME, instance: s })).rejects.toMatchObject({ code: 'INSTANCE_EXISTS' });
      expect(existsSync(join(dir, SPAWN_CLAIM_FILE))).toBe(true);
    } finally {
      await other.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
