import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DriverError, guard, type GuardedDriver, type InstanceSpecInput, type MigrationKind } from '@nova-common/core';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { numericParams } from '../src/client/protocol/typed-params.js';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { DRIVER_NAME } from '../src/driver-name.js';
import { SOCKET, requireGuest, requireLibvirtd, sleep, waitUntil } from './helpers/backend.js';
import { guestSpec, qemuConfig, waitConsole } from './helpers/qemu.js';

/**
 * The destination's backend killed in the middle of a migration: host b's libvirtd (scripts/
 * backends/libvirt-b.sh) gets SIGKILL while a live migration a -> b is in flight, then while a
 * cold one copies the disk and defines the domain. migrate must reject with a typed error, the
 * guest must be on a as before and still answer, and once b is started again (a restart of the
 * host: its QEMU processes go too) nothing of the instance may be left on either host.
 */
const B_SOCKET = '/run/nova-common/libvirt-b/libvirt-sock';
const A_FROM_B = 'qemu+unix:///system?socket=/run/nova-common/libvirt-b/host-a/libvirt-sock';
const DIR_A = '/var/lib/libvirt/images/nova-common/instances';
const DIR_B = '/var/lib/libvirt/images/nova-common/instances-b';
const B_SCRIPT = fileURLToPath(new URL('../../../scripts/backends/libvirt-b.sh', import.meta.url));
const B_PIDFILE = '/tmp/nova-common/libvirt-b/libvirtd.pid';
/** Where b's libvirtd keeps persistent definitions: a file appears here when a define is done. */
const B_DEFINITIONS = '/tmp/nova-common/libvirt-b/etc/qemu';
const PREFIX = 'nvfault-';

const a: GuardedDriver = guard(createLibvirtDriver(qemuConfig(PREFIX, { migrationAddress: A_FROM_B })));
const b: GuardedDriver = guard(createLibvirtDriver(qemuConfig(PREFIX, { socketPath: B_SOCKET, instancesDir: DIR_B })));
const made = new Set<string>();
/** Migrations prepared on b: aborted at the end, so a test that failed half way leaves no reservation. */
const prepared = new Set<string>();

async function hostB(cmd: 'start' | 'kill'): Promise<void> {
  await promisify(execFile)('bash', [B_SCRIPT, cmd], { timeout: 120_000 });
}

async function raw<T>(socketPath: string, use: (c: LibvirtClient) => Promise<T>): Promise<T> {
  const c = new LibvirtClient({ socketPath, uri: 'qemu:///system', connectTimeoutMs: 5_000, keepaliveIntervalMs: 0 });
  try {
    await c.connect();
    return await use(c);
  } finally {
    await c.close().catch(() => undefined);
  }
}

/** Every domain of this test's prefix on a daemon (persistent or not), asked of libvirtd directly. */
const domainsOf = (socketPath: string): Promise<string[]> => raw(socketPath, async (c) => (await c.listAllDomains(0)).map((d) => d.name).filter((n) => n.startsWith(PREFIX)));

const memoryUsed = async (d: GuardedDriver): Promise<number> => (await d.getInventory()).nodes[0]!.resources['MEMORY_MB']!.used;
const resourcesOf = async (d: GuardedDriver) => (await d.getInventory()).nodes.map((n) => n.resources);

/** The guest answers: it sees a NIC hot-plugged on a and says so on its serial console. */
async function answers(uuid: string, mac: string): Promise<void> {
  const vif = randomUUID();
  await a.attachInterface(uuid, { id: vif, address: mac, network: { id: 'test-net' } });
  await waitConsole(a, uuid, new RegExp(`NET\\+ \\S+ mac=${mac}`, 'i'), 60_000);
  await a.detachInterface(uuid, vif);
}

/**
 * Migrate a -> b, killing b's libvirtd (SIGKILL) as soon as `inFlight` says the migration is
 * under way (polled every few ms while migrate runs). Resolves to what migrate threw (or
 * 'moved') and whether the kill happened.
 */
async function migrateKillingB(uuid: string, spec: InstanceSpecInput, kind: MigrationKind, inFlight: () => Promise<boolean> | boolean) {
  const target = await b.prepareMigration({ migrationId: randomUUID(), kind, sourceDriver: DRIVER_NAME, instance: spec });
  prepared.add(target.migrationId);
  let settled = false;
  let killedAt: number | undefined;
  const t0 = Date.now();
  const killer = (async () => {
    while (!settled) {
      if (await Promise.resolve().then(inFlight).catch(() => false)) {
        // Frozen at once (the next call to b hangs), then killed: the daemon dies with the migration's calls open.
        process.kill(Number(readFileSync(B_PIDFILE, 'utf8').trim()), 'SIGSTOP');
        killedAt = Date.now() - t0;
        await hostB('kill');
        return;
      }
      await sleep(5);
    }
  })();
  const outcome = await a.migrate(uuid, target).then(
    () => 'moved' as const,
    (e: unknown) => e,
  );
  settled = true;
  await killer;
  console.log(`${kind}: b killed ${killedAt} ms into migrate, migrate settled after ${Date.now() - t0} ms: ${String(outcome)}`);
  return { target, outcome, killed: killedAt !== undefined };
}

/**
 * After b's restart: nothing of the instance on b (domain, files), once a's undo has had its
 * chance (it retries every second while b is away); its reservation abortable and released.
 */
async function expectNothingLeftOnB(uuid: string, migrationId: string, usedBefore: number): Promise<void> {
  await hostB('start');
  await waitUntil("a's undo of the domain on b", async () => (await domainsOf(B_SOCKET)).length === 0, 30_000, 250);
  expect(existsSync(join(DIR_B, uuid))).toBe(false);
  await b.abortMigration(migrationId);
  await b.abortMigration(migrationId); // idempotent
  expect(await memoryUsed(b)).toBe(usedBefore);
  expect(await domainsOf(B_SOCKET)).toEqual([]);
  expect((await b.listInstances()).map((i) => i.uuid)).not.toContain(uuid);
}

/** The end of each case: a's destroy leaves nothing of the instance on a (domain, directory). */
async function destroyOnA(uuid: string): Promise<void> {
  await a.destroy(uuid);
  made.delete(uuid);
  expect(await domainsOf(SOCKET)).toEqual([]);
  expect(existsSync(join(DIR_A, uuid))).toBe(false);
}

beforeAll(async () => {
  await requireLibvirtd('qemu:///system');
  requireGuest();
  await hostB('start'); // fails loudly when b cannot start
  await a.initHost();
  await b.initHost();
});

afterAll(async () => {
  await hostB('start'); // b stays up for later tests, also when a test failed half way
  for (const id of prepared) await b.abortMigration(id).catch(() => undefined);
  for (const uuid of made) {
    await a.destroy(uuid).catch(() => undefined);
    await b.destroy(uuid).catch(() => undefined);
  }
  await a.cleanupHost();
  await b.cleanupHost();
});

// A test that failed half way may have left b killed: each starts with b up (start keeps a running b).
beforeEach(() => hostB('start'), 120_000);

describe("the destination's libvirtd killed in the middle of a migration (QEMU/TCG)", () => {
  it('live: migrate rejects BACKEND_UNAVAILABLE, the guest runs on a and answers, nothing is left on b after its restart', async () => {
    const spec = guestSpec({ name: 'fault-live' });
    const uuid = spec.uuid!;
    made.add(uuid);
    await a.spawn(spec);
    await waitConsole(a, uuid, /NOVA-GUEST: READY/);
    const [usedB, resourcesA] = [await memoryUsed(b), await resourcesOf(a)];

    // In flight: a's migration job has moved data to b.
    const moving = () =>
      raw(SOCKET, async (c) => {
        const stats = numericParams((await c.getJobStats(await c.lookupByUuid(uuid))).params);
        return (stats['memory_processed'] ?? 0) + (stats['disk_processed'] ?? 0) > 0;
      });
    const { target, outcome, killed } = await migrateKillingB(uuid, spec, 'LIVE', moving);
    expect(killed).toBe(true);
    expect(outcome).toBeInstanceOf(DriverError);
    expect(outcome).toMatchObject({ code: 'BACKEND_UNAVAILABLE', op: 'migrate' });

    expect((await a.listInstances()).map((i) => i.uuid)).toContain(uuid);
    expect((await a.getInfo(uuid)).powerState).toBe('RUNNING');
    await answers(uuid, 'fa:16:3e:00:0f:01');
    await expectNothingLeftOnB(uuid, target.migrationId, usedB);
    expect(await resourcesOf(a)).toEqual(resourcesA);

    await destroyOnA(uuid);
  });

  it('cold: migrate rejects BACKEND_UNAVAILABLE, the guest runs on a again and answers, nothing is left on b after its restart', async () => {
    const spec = guestSpec({ name: 'fault-cold' });
    const uuid = spec.uuid!;
    made.add(uuid);
    await a.spawn(spec);
    await waitConsole(a, uuid, /NOVA-GUEST: READY/);
    const [usedB, resourcesA] = [await memoryUsed(b), await resourcesOf(a)];

    // In flight: the copy into b's instance directory has begun (the domain is defined on b next).
    const { target, outcome, killed } = await migrateKillingB(uuid, spec, 'COLD', () => existsSync(join(DIR_B, uuid)));
    expect(killed).toBe(true);
    expect(outcome).toBeInstanceOf(DriverError);
    expect(outcome).toMatchObject({ code: 'BACKEND_UNAVAILABLE', op: 'migrate' });

    expect((await a.listInstances()).map((i) => i.uuid)).toContain(uuid);
    expect((await a.getInfo(uuid)).powerState).toBe('RUNNING');
    // Stopped for the copy, started again by the rollback: a second boot, then it answers.
    await waitUntil('a second boot on a', async () => ((await a.getConsoleOutput(uuid)).output.match(/NOVA-GUEST: READY/g)?.length ?? 0) >= 2, 90_000, 250);
    await answers(uuid, 'fa:16:3e:00:0f:02');
    await expectNothingLeftOnB(uuid, target.migrationId, usedB);
    expect(await resourcesOf(a)).toEqual(resourcesA);

    await destroyOnA(uuid);
  });

  /**
   * The narrowest window of a cold move: b has defined the domain (its definition is on disk)
   * and dies before a has heard the answer, or while it starts the guest. b keeps the definition
   * across its restart; a cannot remove it while b is away. Either a's background undo removes
   * it once b is back, or, when a stopped trying (here: a closed before b came back), b's
   * abortMigration does, guided by the rolled-back mark a wrote into b's books.
   */
  async function coldKilledAfterDefine(name: string, mac: string, sourceKeepsTrying: boolean): Promise<void> {
    const spec = guestSpec({ name });
    const uuid = spec.uuid!;
    made.add(uuid);
    await a.spawn(spec);
    await waitConsole(a, uuid, /NOVA-GUEST: READY/);
    const [usedB, resourcesA] = [await memoryUsed(b), await resourcesOf(a)];
    const domainName = await raw(SOCKET, async (c) => (await c.lookupByUuid(uuid)).name);

    const { target, outcome, killed } = await migrateKillingB(uuid, spec, 'COLD', () => existsSync(join(B_DEFINITIONS, `${domainName}.xml`)));
    expect(killed).toBe(true);
    expect(outcome).toMatchObject({ code: 'BACKEND_UNAVAILABLE', op: 'migrate' });
    expect((await a.getInfo(uuid)).powerState).toBe('RUNNING');
    await waitUntil('a second boot on a', async () => ((await a.getConsoleOutput(uuid)).output.match(/NOVA-GUEST: READY/g)?.length ?? 0) >= 2, 90_000, 250);
    await answers(uuid, mac);

    if (sourceKeepsTrying) {
      await expectNothingLeftOnB(uuid, target.migrationId, usedB);
    } else {
      await a.cleanupHost(); // no more tries from a: b is still away
      await hostB('start');
      // The window was hit: b came back with the definition, which only the abort may now remove.
      expect(await domainsOf(B_SOCKET)).toEqual([domainName]);
      await expect(b.finishMigration(target.migrationId)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
      await b.abortMigration(target.migrationId);
      expect(await domainsOf(B_SOCKET)).toEqual([]);
      expect(existsSync(join(DIR_B, uuid))).toBe(false);
      expect(await memoryUsed(b)).toBe(usedB);
      expect((await b.listInstances()).map((i) => i.uuid)).not.toContain(uuid);
      await a.initHost();
    }
    expect(await resourcesOf(a)).toEqual(resourcesA);
    await destroyOnA(uuid);
  }

  it('cold, b killed once it defined the domain: a removes the domain from b when b is back', () => coldKilledAfterDefine('fault-defined', 'fa:16:3e:00:0f:03', true));

  it("cold, b killed once it defined the domain and a stops trying: b's abortMigration removes the domain", () => coldKilledAfterDefine('fault-defined-abort', 'fa:16:3e:00:0f:04', false));
});
