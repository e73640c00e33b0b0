import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver } from '@nova-common/core';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { GUEST_IMAGE_ID } from '../src/fixtures/conformance-fixtures.js';
import { INITRD, KERNEL, SOCKET, requireGuest, requireLibvirtd, sleep, waitUntil } from './helpers/backend.js';

/**
 * libvirtd dies mid-spawn, once the guest runs as a transient domain and before the spawn
 * makes it persistent (QEMU URI: a running guest outlives a daemon restart, unlike the test
 * driver's state). The caller gets BACKEND_UNAVAILABLE; once the daemon is back, the
 * half-spawned domain is gone (the sweep after reconnect removes this session's transient
 * domains).
 */

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../../scripts/backends/libvirt.sh', import.meta.url));
const PID_FILE = '/tmp/nova-common/libvirt/libvirtd.pid';

function libvirtdPid(): number {
  // The pid the backend script recorded when it started the daemon.
  const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no libvirtd pid in ${PID_FILE}`);
  return pid;
}

let driver: GuardedDriver;
let uuid: string;

beforeAll(async () => {
  await requireLibvirtd('qemu:///system');
  requireGuest();
  if (!existsSync(PID_FILE)) throw new Error(`${PID_FILE} missing: start libvirtd with scripts/backends/libvirt.sh start`);
});

afterAll(async () => {
  // Leave the daemon running for whatever runs next.
  await run(SCRIPT, ['start'], { timeout: 90_000 }).catch(() => undefined);
  await driver?.cleanupHost();
});

describe('libvirtd dies mid-spawn', () => {
  it('rejects with BACKEND_UNAVAILABLE and leaves no half-defined domain once the daemon is back', async () => {
    uuid = randomUUID();
    let killed = false;
    driver = guard(createLibvirtDriver(
      { uri: 'qemu:///system', socketPath: SOCKET, kernel: KERNEL, initrd: INITRD, callTimeoutMs: 10_000, keepaliveIntervalMs: 500, keepaliveCount: 3 },
      {
        midSpawn: async () => {
          process.kill(libvirtdPid(), 'SIGKILL');
          killed = true;
          await sleep(200);
        },
      },
    ));
    await driver.initHost();
    const err = await driver
      .spawn({ uuid, name: 'doomed', flavor: { id: 't', name: 't', vcpus: 1, memoryMb: 128, rootGb: 1 }, image: { id: GUEST_IMAGE_ID, diskFormat: 'raw', containerFormat: 'bare' } })
      .catch((e: unknown) => e);
    expect(killed).toBe(true);
    expect(err).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });

    // While it is down, calls fail the same way.
    await expect(driver.listInstances()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });

    await run(SCRIPT, ['start'], { timeout: 90_000 });
    // The guest survived the restart: it is there until the driver sweeps it.
    const raw = new LibvirtClient({ socketPath: SOCKET, uri: 'qemu:///system', keepaliveIntervalMs: 0 });
    await raw.connect();
    try {
      expect((await raw.lookupByUuid(uuid)).name).toMatch(new RegExp(`^nova-${uuid}-[0-9a-f]{8}$`));
      const listed = await waitUntil('the driver to be reachable again', async () => driver.listInstances().catch(() => undefined), 30_000, 250);
      expect(listed.map((i) => i.uuid)).not.toContain(uuid);
      await expect(driver.getInfo(uuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
      await expect(raw.lookupByUuid(uuid)).rejects.toMatchObject({ code: 42 });
      expect(existsSync(`/var/lib/libvirt/images/nova-common/instances/${uuid}`)).toBe(false);
    } finally {
      await raw.close();
    }
  });
});
