import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriverError, type VifInput } from '@nova-common/core';
import type { EngineClient } from '../../src/client/engine-client.js';
import { networkLabels } from '../../src/mapping/labels.js';
import { networkName } from '../../src/mapping/networks.js';
import { BASE_IMAGE, spec, uuidv4 } from '../helpers.js';
import { clearOwner, type TestEngine } from './engines.js';

/**
 * Engine networks shared by instances, and what a failed spawn leaves, on a real engine: a network is removed
 * only when no instance uses it (running, stopped, or never started), and a spawn that fails after its network
 * was made removes it again unless another instance uses it.
 */
export function describeNetworks(engine: TestEngine): void {
  describe(`engine networks on ${engine.name}`, () => {
    let client: EngineClient;
    const owner = `networks-${engine.name}`;
    let failBeforeStart = false;
    const driver = engine.driver(owner, {}, {
      beforeStart: () => {
        if (!failBeforeStart) return;
        failBeforeStart = false;
        throw new Error('injected failure: the spawn fails after its networks were connected');
      },
    });
    const naming = { namePrefix: 'nova', labelPrefix: 'io.nova-common', ownerId: owner };
    const foreign: string[] = [];
    let mac = 0;
    const vif = (networkId: string): VifInput => ({ id: uuidv4(), address: `fa:16:3e:00:02:${(++mac).toString(16).padStart(2, '0')}`, network: { id: networkId } });

    async function networkExists(id: string): Promise<boolean> {
      try {
        await client.inspectNetwork(networkName(naming, id));
        return true;
      } catch (err) {
        if ((err as { status?: number }).status === 404) return false;
        throw err;
      }
    }

    /** The driver's containers for a uuid under any name (instance, spawning, replacing). */
    const ownedContainersOf = async (uuid: string) =>
      (await client.listContainers({ label: [`io.nova-common.owner=${owner}`], name: [uuid] })).map((c) => c.Names[0]);

    beforeAll(async () => {
      client = await engine.require();
      await driver.initHost();
      await clearOwner(driver);
    });

    afterAll(async () => {
      for (const id of foreign) await client?.removeContainer(id).catch(() => undefined);
      await clearOwner(driver).catch(() => undefined);
      await driver.cleanupHost();
      await client?.close();
    });

    it('destroying one instance keeps the network others use (never started, stopped, running); they still power on and reboot; it goes with the last', async () => {
      const net = `shared-${uuidv4().slice(0, 8)}`;
      const [a, neverStarted, stopped, running] = [uuidv4(), uuidv4(), uuidv4(), uuidv4()];
      await driver.spawn(spec(a, { networkInfo: [vif(net)] }));
      await driver.spawn(spec(neverStarted, { networkInfo: [vif(net)], powerOn: false }));
      await driver.spawn(spec(stopped, { networkInfo: [vif(net)] }));
      await driver.powerOff(stopped, { gracefulTimeoutMs: 0 });
      await driver.spawn(spec(running, { networkInfo: [vif(net)] }));

      await driver.destroy(a);
      expect(await networkExists(net)).toBe(true);
      await driver.reboot(running, 'SOFT');
      expect((await driver.getInfo(running)).powerState).toBe('RUNNING');
      await driver.destroy(running);
      await driver.powerOn(stopped);
      const info = await driver.getInfo(stopped);
      expect(info.powerState).toBe('RUNNING');
      expect(info.interfaces).toHaveLength(1);
      await driver.destroy(stopped);

      // Only the one that never ran is left on it: from SHUTDOWN a soft reboot is a start, which needs the network.
      expect(await networkExists(net)).toBe(true);
      await driver.reboot(neverStarted, 'SOFT');
      expect((await driver.getInfo(neverStarted)).powerState).toBe('RUNNING');
      await driver.destroy(neverStarted);
      expect(await networkExists(net)).toBe(false);
    });

    it('an instance never started keeps its network when the only other instance on it goes', async () => {
      const net = `pair-${uuidv4().slice(0, 8)}`;
      const [a, b] = [uuidv4(), uuidv4()];
      await driver.spawn(spec(a, { networkInfo: [vif(net)] }));
      await driver.spawn(spec(b, { networkInfo: [vif(net)], powerOn: false }));
      await driver.destroy(a);
      await driver.powerOn(b);
      expect((await driver.getInfo(b)).powerState).toBe('RUNNING');
      await driver.destroy(b);
      expect(await networkExists(net)).toBe(false);
    });

    it('a spawn that fails after its networks were made removes them and its container; a network another instance uses stays', async () => {
      const sharedNet = `kept-${uuidv4().slice(0, 8)}`;
      const ownNet = `made-${uuidv4().slice(0, 8)}`;
      const other = uuidv4();
      const uuid = uuidv4();
      await driver.spawn(spec(other, { networkInfo: [vif(sharedNet)], powerOn: false }));

      failBeforeStart = true;
      const err = await driver.spawn(spec(uuid, { networkInfo: [vif(sharedNet), vif(ownNet)] })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DriverError);
      expect((err as DriverError).code).toBe('INTERNAL');
      expect((err as DriverError).message).toContain('injected failure');

      expect(await networkExists(ownNet)).toBe(false);
      expect(await networkExists(sharedNet)).toBe(true);
      expect(await ownedContainersOf(uuid)).toEqual([]);
      await expect(driver.getInfo(uuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });

      await driver.powerOn(other);
      expect((await driver.getInfo(other)).powerState).toBe('RUNNING');
      // The uuid can be spawned again, on the same networks.
      await driver.spawn(spec(uuid, { networkInfo: [vif(sharedNet), vif(ownNet)] }));
      expect((await driver.getInfo(uuid)).interfaces).toHaveLength(2);
      await driver.destroy(uuid);
      await driver.destroy(other);
      expect(await networkExists(ownNet)).toBe(false);
      expect(await networkExists(sharedNet)).toBe(false);
    });

    it('a spawn the engine refuses at its last step (its name taken by a container the driver does not own) removes its network and container, not the other', async () => {
      const net = `refused-${uuidv4().slice(0, 8)}`;
      const uuid = uuidv4();
      const squatter = await client.createContainer(`nova-${uuid}`, {
        Image: BASE_IMAGE,
        Labels: {},
        Tty: false,
        OpenStdin: false,
        AttachStdin: false,
        AttachStdout: false,
        AttachStderr: false,
        HostConfig: { Privileged: false, NetworkMode: 'none', Init: true },
      });
      foreign.push(squatter);

      const err = await driver.spawn(spec(uuid, { networkInfo: [vif(net)] })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DriverError);
      expect(await networkExists(net)).toBe(false);
      expect(await ownedContainersOf(uuid)).toEqual([]);
      expect((await client.inspectContainer(squatter)).Name).toBe(`/nova-${uuid}`);
    });

    it('two networks of one name (made by two driver processes at once) end as one: every spawn uses the first made, the later goes', async () => {
      const net = `dup-${uuidv4().slice(0, 8)}`;
      const name = networkName(naming, net);
      // What two processes racing past the engine's best-effort duplicate check leave behind.
      const raw = client as unknown as { request(method: string, path: string, o: { body: unknown }): Promise<{ body: { Id: string } }> };
      const create = () =>
        raw.request('POST', '/networks/create', { body: { Name: name, Driver: 'bridge', Internal: true, CheckDuplicate: false, Attachable: true, Labels: networkLabels(naming, net) } });
      const first = (await create()).body.Id;
      let second: string | undefined;
      try {
        second = (await create()).body.Id;
      } catch (err) {
        // An engine that keeps names unique refuses the second one (dockerd 409, podman 500 "already used"): the race
        // cannot happen there.
        const refusal = err as { status?: number; engineMessage?: string };
        expect([409, 500]).toContain(refusal.status);
        expect(refusal.engineMessage).toMatch(/already (exists|used)/i);
      }
      const sameName = async () => (await client.listNetworks({ name: [name] })).filter((n) => n.Name === name).map((n) => n.Id);
      expect((await sameName()).sort()).toEqual([first, ...(second === undefined ? [] : [second])].sort());

      const [a, b] = [uuidv4(), uuidv4()];
      await driver.spawn(spec(a, { networkInfo: [vif(net)] }));
      await driver.spawn(spec(b, { networkInfo: [vif(net)] }));
      expect(await sameName()).toEqual([first]);
      for (const uuid of [a, b]) {
        const [c] = await client.listContainers({ label: [`io.nova-common.owner=${owner}`], name: [`nova-${uuid}`] });
        const networks = (await client.inspectContainer(c!.Id)).NetworkSettings.Networks ?? {};
        // With a duplicate, the name says nothing: the endpoint must be on the first network's id. An engine that
        // refused the duplicate has one network of that name (podman reports its own kind of NetworkID there).
        if (second === undefined) expect(Object.keys(networks)).toContain(name);
        else expect(Object.values(networks).map((ep) => ep?.NetworkID)).toContain(first);
      }
      await driver.destroy(a);
      await driver.destroy(b);
      expect(await sameName()).toEqual([]);
    });
  });
}
