import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineClient } from '../src/client/engine-client.js';
import { networkName } from '../src/mapping/networks.js';
import { BASE_IMAGE, NOTERM_IMAGE, dockerScript, requireEngine, spec, testDriver, uuidv4 } from './helpers.js';

let client: EngineClient;

beforeAll(async () => {
  client = await requireEngine();
});

afterAll(async () => {
  await client?.close();
});

/** Resolve with the promise, or fail once `ms` (the contract's bound for the call) has passed. */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForLog(driver: ReturnType<typeof testDriver>, uuid: string, text: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await driver.getConsoleOutput(uuid)).output.includes(text)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`console of ${uuid} never showed ${JSON.stringify(text)}`);
}

describe('a container that ignores SIGTERM', () => {
  it('still stops within the graceful timeout plus the kill, on powerOff, soft reboot and destroy, and reads SHUTDOWN (the driver asked)', async () => {
    const driver = testDriver('faults-noterm', { stopTimeoutSeconds: 1 });
    await driver.initHost();
    const uuid = uuidv4();
    try {
      await driver.spawn(spec(uuid, { image: { id: NOTERM_IMAGE, diskFormat: 'raw', containerFormat: 'docker' } }));
      await waitForLog(driver, uuid, 'ignoring SIGTERM');
      // The contract bound: gracefulTimeoutMs, then forced. 1 s grace + generous slack for the kill.
      await within(15_000, 'powerOff with gracefulTimeoutMs 1000', driver.powerOff(uuid, { gracefulTimeoutMs: 1000 }));
      expect((await driver.getInfo(uuid)).powerState).toBe('SHUTDOWN');

      // (Without gracefulTimeoutMs the guard passes 60 000 ms since contract 1.1, which the engine gets as its
      // grace: test/engine-differences.test.ts checks that; this guest would take the whole minute.)
      await driver.powerOn(uuid);
      await waitForLog(driver, uuid, 'ignoring SIGTERM');
      await within(15_000, 'powerOff with gracefulTimeoutMs 2000', driver.powerOff(uuid, { gracefulTimeoutMs: 2000 }));
      expect((await driver.getInfo(uuid)).powerState).toBe('SHUTDOWN');

      await driver.powerOn(uuid);
      await within(15_000, 'soft reboot', driver.reboot(uuid, 'SOFT'));
      expect((await driver.getInfo(uuid)).powerState).toBe('RUNNING');

      await within(15_000, 'powerOff with gracefulTimeoutMs 0 (forced at once)', driver.powerOff(uuid, { gracefulTimeoutMs: 0 }));
      expect((await driver.getInfo(uuid)).powerState).toBe('SHUTDOWN');
      await driver.powerOn(uuid);
    } finally {
      await within(15_000, 'destroy', driver.destroy(uuid));
      await driver.cleanupHost();
    }
    await expect(client.inspectContainer(`nova-${uuid}`)).rejects.toMatchObject({ status: 404 });
  });
});

describe('the engine dies mid-spawn', () => {
  it('spawn rejects BACKEND_UNAVAILABLE, and no half-created container remains once the engine is back', async () => {
    const uuid = uuidv4();
    let createdId: string | undefined;
    const driver = testDriver('faults-midspawn', {}, {
      afterCreate: async (id) => {
        if (createdId !== undefined) return; // only the first spawn meets the fault
        createdId = id;
        await dockerScript('stop');
      },
    });
    await driver.initHost();
    try {
      const err = await driver.spawn(spec(uuid)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as { code?: string }).code).toBe('BACKEND_UNAVAILABLE');
      expect(createdId).toBeDefined();
      // While the engine is away, calls say so too.
      await expect(driver.listInstances()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    } finally {
      await dockerScript('start');
    }
    // Once it is back the driver removes what it still owes (on its next call, or its retry timer).
    expect(await driver.listInstances()).toEqual([]);
    await expect(client.inspectContainer(createdId!)).rejects.toMatchObject({ status: 404 });
    await expect(driver.getInfo(uuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
    // And the uuid can be spawned again.
    await driver.spawn(spec(uuid));
    expect((await driver.getInfo(uuid)).powerState).toBe('RUNNING');
    await driver.destroy(uuid);
    await driver.cleanupHost();
  });

  it('the engine dying after the spawn made its network: once it is back, the container and the network go too', async () => {
    const uuid = uuidv4();
    const networkId = `midspawn-${uuid.slice(0, 8)}`;
    const owner = 'faults-midspawn-net';
    let createdId: string | undefined;
    const driver = testDriver(owner, {}, {
      beforeStart: async (id) => {
        if (createdId !== undefined) return;
        createdId = id;
        await dockerScript('stop');
      },
    });
    await driver.initHost();
    const network = networkName({ namePrefix: 'nova', labelPrefix: 'io.nova-common', ownerId: owner }, networkId);
    try {
      const err = await driver.spawn(spec(uuid, { networkInfo: [{ id: uuidv4(), address: 'fa:16:3e:00:03:01', network: { id: networkId } }] })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as { code?: string }).code).toBe('BACKEND_UNAVAILABLE');
    } finally {
      await dockerScript('start');
    }
    expect(createdId).toBeDefined();
    // The driver's next call removes what it still owes: the container, then the network nothing uses.
    expect(await driver.listInstances()).toEqual([]);
    await expect(client.inspectContainer(createdId!)).rejects.toMatchObject({ status: 404 });
    await expect(client.inspectNetwork(network)).rejects.toMatchObject({ status: 404 });
    await driver.cleanupHost();
  });

  it('a driver that died mid-spawn leaves a container the next initHost sweeps', async () => {
    const uuid = uuidv4();
    // What a driver process that died between create and rename leaves: an owned container under the spawning name.
    const leftover = await client.createContainer(`nova-spawning-${uuid}`, {
      Image: BASE_IMAGE,
      Labels: { 'io.nova-common.owner': 'faults-sweep', 'io.nova-common.kind': 'instance', 'io.nova-common.uuid': uuid },
      Tty: false,
      OpenStdin: false,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      HostConfig: { Privileged: false, NetworkMode: 'none', Init: true },
    });
    const driver = testDriver('faults-sweep', { spawnSweepAgeSeconds: 0 });
    await driver.initHost();
    await expect(client.inspectContainer(leftover)).rejects.toMatchObject({ status: 404 });
    expect(await driver.listInstances()).toEqual([]);
    await driver.cleanupHost();
  });
});
