import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard } from '@nova-common/core';
import { EngineClient } from '../src/client/engine-client.js';
import { CAPABILITY_NOTES } from '../src/driver/capabilities.js';
import { createContainerDriver } from '../src/driver/driver.js';
import { SCRIPT, SOCKET, requireEngine, spec, uuidv4 } from './helpers.js';
import { inspectOf, killEngine, readFileIn, tracesOf, writeFileIn } from './migration-helpers.js';
import { PODMAN_SOCKET, requirePodman } from './podman/helpers.js';

// Evacuate (R-EVACUATE) as a caller does it when a host dies: dockerd (host A) is SIGKILLed with the instance
// running, the instance is spawned again, same uuid, spec and volume, on podman (host B); dockerd comes back
// (its copy comes back stopped) and A's destroy removes its stale copy. Both hosts allow the same volume root,
// so both copies mount the same host file: the volume's data is the caller's and outlives both destroys.

const run = promisify(execFile);
const OWNER = 'evacuate-test';
const VOLUME_ROOT = '/tmp/nova-common/migration/volumes';
const make = (socketPath: string, engine: string) =>
  guard(createContainerDriver({ socketPath, volumeRoot: VOLUME_ROOT, stateDir: `/tmp/nova-common/evacuate/state-${engine}`, ownerId: OWNER, stopTimeoutSeconds: 2 }));
const a = make(SOCKET, 'docker');
const b = make(PODMAN_SOCKET, 'podman');
const dockerClient = new EngineClient({ socketPath: SOCKET });
const podmanClient = new EngineClient({ socketPath: PODMAN_SOCKET });

beforeAll(async () => {
  await (await requireEngine()).close();
  await (await requirePodman()).close();
  mkdirSync(VOLUME_ROOT, { recursive: true });
  await a.initHost();
  await b.initHost();
});

afterAll(async () => {
  await run('bash', [SCRIPT, 'start'], { timeout: 180_000 });
  await a.cleanupHost();
  await b.cleanupHost();
  await dockerClient.close();
  await podmanClient.close();
});

describe('evacuate from a dead dockerd to podman', () => {
  it('is declared, with what it promises about volumes and fencing', async () => {
    for (const d of [a, b]) expect((await d.getCapabilities()).capabilities['operation.evacuate']).toEqual({ level: 'partial', notes: CAPABILITY_NOTES.evacuate });
  });

  it("A's destroy of its stale copy leaves B's instance, its container, network and volume data untouched", async () => {
    const uuid = uuidv4();
    const volumeId = uuidv4();
    const netId = `evac-net-${uuid.slice(0, 8)}`;
    const volFile = path.join(VOLUME_ROOT, `evac-${volumeId}.img`);
    writeFileSync(volFile, 'written on a\n');
    const s = spec(uuid, {
      metadata: { evacuated: 'yes' },
      networkInfo: [{ id: uuidv4(), address: 'fa:16:3e:00:55:66', network: { id: netId } }],
      blockDeviceInfo: { volumes: [{ volumeId, deviceName: 'vdb', connectionInfo: { driverVolumeType: 'file', path: volFile } }] },
    });
    try {
      await a.spawn(s);
      await writeFileIn(dockerClient, uuid, '/root', 'only-on-a.txt', 'a\n');
      const onA = await a.getInfo(uuid);

      // Host A dies with the instance running.
      await killEngine('/tmp/nova-common/docker/dockerd.pid', SOCKET);
      await b.spawn(s);
      const onB = await b.getInfo(uuid);
      expect(onB).toMatchObject({ uuid, name: onA.name, metadata: onA.metadata, volumes: onA.volumes, interfaces: onA.interfaces, powerState: 'RUNNING' });
      writeFileSync(volFile, 'written while on b\n');
      expect(await readFileIn(podmanClient, uuid, `/volumes/${volumeId}`)).toBe('written while on b\n');
      const containerOnB = await inspectOf(podmanClient, uuid);
      const networksOnB = Object.keys(containerOnB.NetworkSettings.Networks ?? {}).sort();

      // Host A comes back: its copy is there, stopped; its driver destroys it.
      await run('bash', [SCRIPT, 'start'], { timeout: 180_000 });
      await a.initHost();
      expect((await a.listInstances()).map((i) => i.uuid)).toContain(uuid);
      expect(await readFileIn(dockerClient, uuid, '/root/only-on-a.txt')).toBe('a\n');
      await a.destroy(uuid);

      expect((await a.listInstances()).map((i) => i.uuid)).not.toContain(uuid);
      expect(await tracesOf(dockerClient, OWNER, uuid)).toEqual([]);
      expect(await b.getInfo(uuid)).toEqual(onB);
      const after = await inspectOf(podmanClient, uuid);
      expect({ id: after.Id, startedAt: after.State.StartedAt, running: after.State.Running }).toEqual({ id: containerOnB.Id, startedAt: containerOnB.State.StartedAt, running: true });
      expect(Object.keys(after.NetworkSettings.Networks ?? {}).sort()).toEqual(networksOnB);
      expect(readFileSync(volFile, 'utf8')).toBe('written while on b\n');
      expect(await readFileIn(podmanClient, uuid, `/volumes/${volumeId}`)).toBe('written while on b\n');
      expect(await tracesOf(podmanClient, OWNER, uuid)).toEqual([`container /nova-${uuid}`]);

      // The volume is the caller's: B's destroy leaves the file too.
      await b.destroy(uuid);
      expect(await tracesOf(podmanClient, OWNER, uuid)).toEqual([]);
      expect(existsSync(volFile)).toBe(true);
    } finally {
      await a.destroy(uuid).catch(() => undefined);
      await b.destroy(uuid).catch(() => undefined);
      rmSync(volFile, { force: true });
    }
  });
});
