import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriverError, guard, type HostInventory, type GuardedDriver, type MigrationRequestInput } from '@nova-common/core';
import { EngineClient } from '../src/client/engine-client.js';
import type { ContainerDriverHooks } from '../src/driver/context.js';
import { createContainerDriver } from '../src/driver/driver.js';
import { DRIVER_NAME } from '../src/driver-name.js';
import { SCRIPT, SOCKET, requireEngine, spec, uuidv4 } from './helpers.js';
import { killEngine, readFileIn, tracesOf, writeFileIn } from './migration-helpers.js';
import { PODMAN_SCRIPT, PODMAN_SOCKET, requirePodman } from './podman/helpers.js';

// The destination's engine SIGKILLed in the middle of a cold migration of a RUNNING instance: while the
// image is being loaded there, and once the container is made (and wired) there, before it starts. Both
// ways: dockerd -> podman with podman's service killed, podman -> dockerd with dockerd killed. The source
// driver's migrationStep hook (a fault-test hook, src/driver/context.ts) is where the kill happens, so it
// lands at the same step every run. After each: migrate rejects with BACKEND_UNAVAILABLE, the instance is on
// the source RUNNING with its data, and once the engine is started again by its script nothing of the
// migration is left on either engine but the reservation, which abortMigration removes (as the contract has it).

const run = promisify(execFile);
const OWNER = 'migration-faults';
const VOLUME_ROOT = '/tmp/nova-common/migration-faults/volumes';

interface Engine {
  name: 'docker' | 'podman';
  socket: string;
  script: string;
  pidFile: string;
  client: EngineClient;
  hooks: ContainerDriverHooks;
  driver: GuardedDriver;
}

const engine = (name: Engine['name'], socket: string, script: string): Engine => {
  const hooks: ContainerDriverHooks = {};
  const driver = guard(
    createContainerDriver({ socketPath: socket, volumeRoot: VOLUME_ROOT, stateDir: `/tmp/nova-common/migration-faults/state-${name}`, ownerId: OWNER, stopTimeoutSeconds: 2 }, hooks),
  );
  return { name, socket, script, pidFile: `/tmp/nova-common/${name === 'docker' ? 'docker/dockerd' : 'podman/podman'}.pid`, client: new EngineClient({ socketPath: socket }), hooks, driver };
};
const docker = engine('docker', SOCKET, SCRIPT);
const podman = engine('podman', PODMAN_SOCKET, PODMAN_SCRIPT);

const startEngine = async (e: Engine) => void (await run('bash', [e.script, 'start'], { timeout: 180_000 }));

beforeAll(async () => {
  await (await requireEngine()).close();
  await (await requirePodman()).close();
  mkdirSync(VOLUME_ROOT, { recursive: true });
  await docker.driver.initHost();
  await podman.driver.initHost();
});

afterAll(async () => {
  // Both engines up for whatever runs next, whatever happened here.
  await startEngine(docker);
  await startEngine(podman);
  for (const e of [docker, podman]) {
    await e.driver.cleanupHost();
    await e.client.close();
  }
});

const kill = (e: Engine) => killEngine(e.pidFile, e.socket);

const usedOf = (inv: HostInventory) => inv.nodes.map((n) => Object.fromEntries(Object.entries(n.resources).map(([cls, r]) => [cls, r.used])));

/** The engine's networks carrying this VIF's network id (made for the instance's interface). */
async function vifNetworks(client: EngineClient, networkId: string): Promise<string[]> {
  return (await client.listNetworks({ label: [`io.nova-common.owner=${OWNER}`] })).filter((n) => Object.values(n.Labels ?? {}).includes(networkId)).map((n) => n.Name);
}

const cases: { from: Engine; to: Engine; at: 'loading' | 'created' }[] = [
  { from: docker, to: podman, at: 'loading' },
  { from: docker, to: podman, at: 'created' },
  { from: podman, to: docker, at: 'loading' },
  { from: podman, to: docker, at: 'created' },
];

describe('the destination engine SIGKILLed mid-migration', () => {
  it.each(cases)('$from.name -> $to.name, killed at $at: migrate rejects typed, the instance stays RUNNING on the source, nothing leaks', async ({ from, to, at }) => {
    const uuid = uuidv4();
    const volumeId = uuidv4();
    const netId = `fault-net-${uuid.slice(0, 8)}`;
    const volFile = path.join(VOLUME_ROOT, `fault-${volumeId}.img`);
    writeFileSync(volFile, 'volume data\n');
    const s = spec(uuid, {
      metadata: { case: `${from.name}-${at}` },
      networkInfo: [{ id: uuidv4(), address: 'fa:16:3e:00:33:44', network: { id: netId } }],
      blockDeviceInfo: { volumes: [{ volumeId, deviceName: 'vdb', connectionInfo: { driverVolumeType: 'file', path: volFile } }] },
    });
    await from.driver.spawn(s);
    await writeFileIn(from.client, uuid, '/root', 'data.txt', 'written before the move\n');
    const before = await from.driver.getInfo(uuid);
    expect(before.powerState).toBe('RUNNING');
    const usedBefore = usedOf(await from.driver.getInventory());
    const sourceNetworks = await vifNetworks(from.client, netId);
    expect(sourceNetworks).toHaveLength(1);

    const target = await to.driver.prepareMigration({ migrationId: uuidv4(), kind: 'COLD', sourceDriver: DRIVER_NAME, instance: s } as MigrationRequestInput);
    const steps: string[] = [];
    from.hooks.migrationStep = async (step) => {
      steps.push(step);
      if (step === at) await kill(to);
    };
    let failure: unknown;
    try {
      await from.driver.migrate(uuid, target);
    } catch (err) {
      failure = err;
    } finally {
      from.hooks.migrationStep = undefined;
    }
    try {
      expect(steps).toContain(at);
      expect(failure).toBeInstanceOf(DriverError);
      expect(failure).toMatchObject({ code: 'BACKEND_UNAVAILABLE', op: 'migrate' });

      // On the source as before: listed there, RUNNING, same record, its data and networks, its inventory.
      expect((await from.driver.listInstances()).map((i) => i.uuid)).toContain(uuid);
      expect(await from.driver.getInfo(uuid)).toEqual(before);
      expect(await readFileIn(from.client, uuid, '/root/data.txt')).toBe('written before the move\n');
      expect(await readFileIn(from.client, uuid, `/volumes/${volumeId}`)).toBe('volume data\n');
      expect(await vifNetworks(from.client, netId)).toEqual(sourceNetworks);
      expect(usedOf(await from.driver.getInventory())).toEqual(usedBefore);
      expect(await tracesOf(from.client, OWNER, uuid)).toEqual([`container /nova-${uuid}`]);
    } finally {
      await startEngine(to);
    }

    // The killed engine is back: the source's rollback, retried while it was away, leaves only the reservation
    // there (R-MIGRATE-ROLLBACK), and abort removes that.
    await to.driver.initHost();
    const reservation = `volume nova-migration-${target.migrationId}`;
    let left: string[] = [];
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      left = await tracesOf(to.client, OWNER, uuid);
      if (left.length === 1 && (await vifNetworks(to.client, netId)).length === 0) break;
    }
    expect(left).toEqual([reservation]);
    expect(await vifNetworks(to.client, netId)).toEqual([]);
    expect((await to.driver.listInstances()).map((i) => i.uuid)).not.toContain(uuid);
    await to.driver.abortMigration(target.migrationId);
    expect(await tracesOf(to.client, OWNER, uuid)).toEqual([]);
    expect(await vifNetworks(to.client, netId)).toEqual([]);
    expect(await tracesOf(from.client, OWNER, uuid)).toEqual([`container /nova-${uuid}`]);
    expect(usedOf(await from.driver.getInventory())).toEqual(usedBefore);
    expect((await from.driver.getInfo(uuid)).powerState).toBe('RUNNING');

    await from.driver.destroy(uuid);
    expect(await tracesOf(from.client, OWNER, uuid)).toEqual([]);
  });
});
