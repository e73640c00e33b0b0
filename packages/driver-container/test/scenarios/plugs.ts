import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDriverError, type GuardedDriver, type VifInput } from '@nova-common/core';
import type { GuardedVolumeConnector } from '@nova-common/core/plugs';
import { createFileConnector, createLoopConnector, createVethPlugin } from '@nova-common/plugs';
import { makeVolumeDirs, testVif, volumeFixtures } from '@nova-common/plugs/testing';
import type { EngineClient } from '../../src/client/engine-client.js';
import { uuidv4 } from '../helpers.js';
import type { TestEngine } from './engines.js';

interface Link {
  ifname: string;
  address?: string;
  master?: string;
  operstate?: string;
}

const ipLinks = (args: string[] = []): Link[] => JSON.parse(execFileSync('ip', ['-j', ...args, 'link', 'show'], { encoding: 'utf8' })) as Link[];

/**
 * The driver with the real veth plugin and file connector on `engine`: each run of a container gets its
 * VIFs plugged on a bridge this test names and their peers moved in as eth<N>; volumes go through the
 * connector. Everything made on the host is named by the test (ncbr-*) or by the plugin for the test's ports.
 */
export function describePlugs(engine: TestEngine): void {
  describe(`plugs on ${engine.name}: veth plugin and file connector`, () => {
    const owner = `plugs-${process.pid}`;
    const bridge = `ncbr-${Math.random().toString(36).slice(2, 8)}`;
    const dirs = makeVolumeDirs();
    const volumes = volumeFixtures(dirs);
    let client: EngineClient;
    let connector: GuardedVolumeConnector;
    let driver: GuardedDriver;
    const made: string[] = [];

    const open = async (): Promise<GuardedDriver> => {
      const d = engine.driver(owner, {}, { vifPlugin: createVethPlugin(), volumeConnector: connector });
      await d.initHost();
      return d;
    };
    const pidOf = async (uuid: string): Promise<number> => (await client.inspectContainer(`nova-${uuid}`)).State.Pid;
    /** The links inside the instance's container (its network namespace, entered through its init's pid). */
    const inside = async (uuid: string): Promise<Link[]> =>
      JSON.parse(execFileSync('nsenter', ['-t', String(await pidOf(uuid)), '-n', 'ip', '-j', 'link', 'show'], { encoding: 'utf8' })) as Link[];
    const ports = (): string[] => ipLinks().filter((l) => l.master === bridge).map((l) => l.ifname);
    const bridgeExists = (): boolean => ipLinks().some((l) => l.ifname === bridge);
    /** Whether something is mounted at `target` in the instance's container (a detached volume's empty mount point stays in the committed layer). */
    const mounted = async (uuid: string, target: string): Promise<boolean> =>
      readFileSync(`/proc/${await pidOf(uuid)}/mountinfo`, 'utf8')
        .split('\n')
        .some((line) => line.split(' ')[4] === target);
    const macOf = (links: Link[], name: string): string | undefined => links.find((l) => l.ifname === name)?.address;
    const vif = (i: number, onBridge = bridge): VifInput => testVif(i, onBridge);

    beforeAll(async () => {
      client = await engine.require();
      connector = createFileConnector({ roots: [dirs.root], stateDir: dirs.state });
      driver = await open();
    });

    afterAll(async () => {
      for (const uuid of made) await driver.destroy(uuid).catch(() => undefined);
      await driver.cleanupHost();
      await client.close();
      dirs.remove();
      if (bridgeExists()) execFileSync('ip', ['link', 'del', bridge]);
    });

    it('spawn with two VIFs and a volume: eth0/eth1 with the ports\' MACs, host ends on the bridge, the volume file inside', async () => {
      const uuid = uuidv4();
      made.push(uuid);
      const vol = await volumes.makeVolume(1, 8192);
      await driver.spawn({
        uuid,
        name: 'plugged',
        flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 64, rootGb: 1 },
        image: { id: 'nova-common/busybox:latest', diskFormat: 'raw', containerFormat: 'docker' },
        networkInfo: [vif(1), vif(2)],
        blockDeviceInfo: { volumes: [{ volumeId: vol.volumeId, connectionInfo: vol.connectionInfo, deviceName: '/dev/vdb' }] },
      });
      const links = await inside(uuid);
      expect(macOf(links, 'eth0')).toBe('fa:16:3e:00:00:01');
      expect(macOf(links, 'eth1')).toBe('fa:16:3e:00:00:02');
      expect(links.find((l) => l.ifname === 'eth0')?.operstate).not.toBe('DOWN');
      expect(ports()).toHaveLength(2);
      expect(existsSync(`/proc/${await pidOf(uuid)}/root/volumes/${vol.volumeId}`)).toBe(true);
      expect((await connector.listConnected()).map((c) => c.volumeId)).toEqual([vol.volumeId]);
      const info = await driver.getInfo(uuid);
      expect(info.interfaces.map((i) => i.address).sort()).toEqual(['fa:16:3e:00:00:01', 'fa:16:3e:00:00:02']);
      expect(info.volumes.map((v) => v.volumeId)).toEqual([vol.volumeId]);
      const container = await client.inspectContainer(`nova-${uuid}`);
      expect(container.HostConfig.NetworkMode).toBe('none');

      // Power off: the plugin's devices go, and the bridge it made with them.
      await driver.powerOff(uuid);
      expect(ports()).toEqual([]);
      expect(bridgeExists()).toBe(false);
      // Power on: plugged again, moved in again.
      await driver.powerOn(uuid);
      expect(macOf(await inside(uuid), 'eth1')).toBe('fa:16:3e:00:00:02');
      expect(ports()).toHaveLength(2);
      // Hard reboot: the same.
      await driver.reboot(uuid, 'HARD');
      expect(macOf(await inside(uuid), 'eth0')).toBe('fa:16:3e:00:00:01');
      expect(ports()).toHaveLength(2);
      // Rebuild (the running container is replaced without a stop): the new one gets the ports.
      await driver.rebuild(uuid, { image: { id: 'nova-common/busybox:latest', diskFormat: 'raw', containerFormat: 'docker' } });
      expect(macOf(await inside(uuid), 'eth1')).toBe('fa:16:3e:00:00:02');
      expect(ports()).toHaveLength(2);

      // Attach a third VIF to the running container: eth2; detach it: gone, and its host end.
      await driver.attachInterface(uuid, vif(3));
      expect(macOf(await inside(uuid), 'eth2')).toBe('fa:16:3e:00:00:03');
      expect(ports()).toHaveLength(3);
      await driver.detachInterface(uuid, vif(3).id);
      expect(macOf(await inside(uuid), 'eth2')).toBeUndefined();
      expect(ports()).toHaveLength(2);

      // A VIF attached while stopped is wired at the next start; the list survives a new driver process.
      await driver.powerOff(uuid);
      await driver.attachInterface(uuid, vif(4));
      await driver.cleanupHost();
      driver = await open();
      expect((await driver.getInfo(uuid)).interfaces).toHaveLength(3);
      await driver.powerOn(uuid);
      const after = await inside(uuid);
      expect(macOf(after, 'eth2')).toBe('fa:16:3e:00:00:04');
      expect(ports()).toHaveLength(3);

      // Destroy: no container, no device, no bridge, nothing connected.
      await driver.destroy(uuid);
      expect(ports()).toEqual([]);
      expect(bridgeExists()).toBe(false);
      expect(ipLinks().filter((l) => /^v[hg]/.test(l.ifname) && l.ifname.includes('0b7c1e'))).toEqual([]);
      expect(await connector.listConnected()).toEqual([]);
      await expect(driver.getInfo(uuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
    });

    it('a spawn whose second plug fails leaves no container, no device, no bridge', async () => {
      const uuid = uuidv4();
      made.push(uuid);
      // The second port's bridge names the host's loopback, which is no bridge: the plugin refuses it.
      const err = await driver
        .spawn({
          uuid,
          name: 'half',
          flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 64, rootGb: 1 },
          image: { id: 'nova-common/busybox:latest', diskFormat: 'raw', containerFormat: 'docker' },
          networkInfo: [vif(5), vif(6, 'lo')],
        })
        .catch((e: unknown) => e);
      expect(isDriverError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'INVALID_INPUT' });
      expect(await client.listContainers({ label: [`io.nova-common.owner=${owner}`, `io.nova-common.uuid=${uuid}`] })).toEqual([]);
      expect(ports()).toEqual([]);
      expect(bridgeExists()).toBe(false);
      expect(ipLinks().filter((l) => l.ifname.includes('050b7c'))).toEqual([]);
      await expect(driver.getInfo(uuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
    });

    it('attach and detach of a volume through the connector', async () => {
      const uuid = uuidv4();
      made.push(uuid);
      await driver.spawn({
        uuid,
        name: 'volumes',
        flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 64, rootGb: 1 },
        image: { id: 'nova-common/busybox:latest', diskFormat: 'raw', containerFormat: 'docker' },
        networkInfo: [vif(7)],
      });
      const vol = await volumes.makeVolume(2, 4096);
      await driver.attachVolume(uuid, { volumeId: vol.volumeId, connectionInfo: vol.connectionInfo });
      expect(existsSync(`/proc/${await pidOf(uuid)}/root/volumes/${vol.volumeId}`)).toBe(true);
      expect(await mounted(uuid, `/volumes/${vol.volumeId}`)).toBe(true);
      // The container was recreated for the mount and started again: its port is wired into the new run.
      expect(macOf(await inside(uuid), 'eth0')).toBe('fa:16:3e:00:00:07');
      expect((await connector.listConnected()).map((c) => c.volumeId)).toEqual([vol.volumeId]);
      await driver.detachVolume(uuid, vol.volumeId);
      expect(await mounted(uuid, `/volumes/${vol.volumeId}`)).toBe(false);
      expect(await connector.listConnected()).toEqual([]);
      expect(macOf(await inside(uuid), 'eth0')).toBe('fa:16:3e:00:00:07');
      await driver.destroy(uuid);
      expect(ports()).toEqual([]);
      expect(bridgeExists()).toBe(false);
    });

    it('a start whose wiring fails ends the run again: SHUTDOWN, no device; it starts once the bad port is detached', async () => {
      const uuid = uuidv4();
      made.push(uuid);
      await driver.spawn({
        uuid,
        name: 'restart',
        flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 64, rootGb: 1 },
        image: { id: 'nova-common/busybox:latest', diskFormat: 'raw', containerFormat: 'docker' },
        networkInfo: [vif(8)],
        powerOn: false,
      });
      // Recorded while stopped; its bridge is the host's loopback, which the plugin refuses at the next start.
      await driver.attachInterface(uuid, vif(9, 'lo'));
      await expect(driver.powerOn(uuid)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      expect((await driver.getInfo(uuid)).powerState).toBe('SHUTDOWN');
      expect(ports()).toEqual([]);
      expect(bridgeExists()).toBe(false);
      await driver.detachInterface(uuid, vif(9).id);
      await driver.powerOn(uuid);
      expect((await driver.getInfo(uuid)).powerState).toBe('RUNNING');
      expect(macOf(await inside(uuid), 'eth0')).toBe('fa:16:3e:00:00:08');
      await driver.destroy(uuid);
      expect(bridgeExists()).toBe(false);
    });

    it('plugs named in the configuration are loaded at initHost; one that cannot be loaded is INVALID_INPUT naming vifPlugin.use', async () => {
      const from = path.resolve(import.meta.dirname, '../..');
      const configured = engine.driver(`${owner}-spec`, { vifPlugin: { use: '@nova-common/plugs#createVethPlugin' } }, { plugResolveFrom: from });
      await configured.initHost();
      expect((await configured.getCapabilities()).capabilities['operation.migrate'].level).toBe('missing');
      await configured.cleanupHost();
      const broken = engine.driver(`${owner}-spec`, { vifPlugin: { use: '@nova-common/no-such-plug#createVethPlugin' } }, { plugResolveFrom: from });
      const err = await broken.initHost().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'INVALID_INPUT' });
      expect((err as { issues: { path: unknown[] }[] }).issues[0]!.path).toEqual(['config', 'vifPlugin', 'use']);
      await broken.cleanupHost();
    });

    it('initHost drops the VIF record of an instance whose container is gone', async () => {
      const uuid = uuidv4();
      made.push(uuid);
      await driver.spawn({
        uuid,
        name: 'gone',
        flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 64, rootGb: 1 },
        image: { id: 'nova-common/busybox:latest', diskFormat: 'raw', containerFormat: 'docker' },
        networkInfo: [vif(10)],
        powerOn: false,
      });
      const rootDir = (await client.info()).DockerRootDir;
      const record = path.join(engine.stateDir, createHash('sha256').update(rootDir).digest('hex').slice(0, 16), owner, 'vifs', `${uuid}.json`);
      expect(existsSync(record)).toBe(true);
      // Removed behind the driver's back, as the startup sweep removes a spawn's container the driver died in.
      await client.removeContainer(`nova-${uuid}`);
      const again = engine.driver(owner, { spawnSweepAgeSeconds: 0 }, { vifPlugin: createVethPlugin(), volumeConnector: connector });
      await again.initHost();
      expect(existsSync(record)).toBe(false);
      await again.cleanupHost();
    });

    it('after a stop and a crash behind the driver\'s back, restoreState and power on wire the ports again; destroy leaves no bridge', async () => {
      const uuid = uuidv4();
      made.push(uuid);
      const { backend, close } = engine.hooks(owner);
      try {
        await driver.spawn({
          uuid,
          name: 'out-of-band',
          flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 64, rootGb: 1 },
          image: { id: 'nova-common/busybox:latest', diskFormat: 'raw', containerFormat: 'docker' },
          networkInfo: [vif(11), vif(12)],
        });
        await backend.powerOffOutOfBand!(uuid);
        // The pairs die with the namespace (the kernel tears it down a moment later).
        await expect.poll(ports, { timeout: 10_000, interval: 100 }).toEqual([]);
        await driver.restoreState(uuid, 'RUNNING');
        expect(macOf(await inside(uuid), 'eth1')).toBe('fa:16:3e:00:00:0c');
        expect(ports()).toHaveLength(2);
        await backend.crash!(uuid);
        expect((await driver.getInfo(uuid)).powerState).toBe('CRASHED');
        await driver.powerOn(uuid);
        expect(macOf(await inside(uuid), 'eth0')).toBe('fa:16:3e:00:00:0b');
        expect(ports()).toHaveLength(2);
        await driver.destroy(uuid);
        expect(ports()).toEqual([]);
        expect(bridgeExists()).toBe(false);
      } finally {
        await close();
      }
    });

    it('an instance made before the plugin was configured keeps its engine network; a VIF attached later goes through the plugin', async () => {
      const uuid = uuidv4();
      made.push(uuid);
      const plain = engine.driver(owner);
      await plain.initHost();
      try {
        await plain.spawn({
          uuid,
          name: 'before-plugs',
          flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 64, rootGb: 1 },
          image: { id: 'nova-common/busybox:latest', diskFormat: 'raw', containerFormat: 'docker' },
          networkInfo: [{ id: 'd00dfeed-0000-4000-8000-000000000001', address: 'fa:16:3e:00:01:01', network: { id: 'net-before-plugs' } }],
        });
      } finally {
        await plain.cleanupHost();
      }
      const before = (await inside(uuid)).map((l) => l.ifname).filter((n) => n !== 'lo');
      await driver.attachInterface(uuid, vif(13));
      const added = (await inside(uuid)).find((l) => l.address === 'fa:16:3e:00:00:0d');
      expect(added?.ifname).toMatch(/^eth\d+$/);
      expect(before).not.toContain(added!.ifname);
      expect((await driver.getInfo(uuid)).interfaces.map((i) => i.id).sort()).toEqual(['d00dfeed-0000-4000-8000-000000000001', vif(13).id].sort());
      await driver.detachInterface(uuid, vif(13).id);
      expect((await inside(uuid)).some((l) => l.address === 'fa:16:3e:00:00:0d')).toBe(false);
      await driver.detachInterface(uuid, 'd00dfeed-0000-4000-8000-000000000001');
      expect((await driver.getInfo(uuid)).interfaces).toEqual([]);
      await driver.destroy(uuid);
      expect(ports()).toEqual([]);
      expect(bridgeExists()).toBe(false);
    });

    it('with the loop connector a file volume reaches the container as a block device; destroy detaches the loop device', async () => {
      const uuid = uuidv4();
      made.push(uuid);
      const loop = createLoopConnector({ roots: [dirs.root], stateDir: path.join(dirs.state, 'loop') });
      const withLoop = engine.driver(owner, {}, { vifPlugin: createVethPlugin(), volumeConnector: loop });
      await withLoop.initHost();
      try {
        const vol = await volumes.makeVolume(3, 1024 * 1024);
        await withLoop.spawn({
          uuid,
          name: 'loop',
          flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 64, rootGb: 1 },
          image: { id: 'nova-common/busybox:latest', diskFormat: 'raw', containerFormat: 'docker' },
          networkInfo: [vif(14)],
          blockDeviceInfo: { volumes: [{ volumeId: vol.volumeId, connectionInfo: vol.connectionInfo }] },
        });
        const [connected] = await loop.listConnected();
        expect(connected).toMatchObject({ volumeId: vol.volumeId, kind: 'block' });
        expect(statSync(`/proc/${await pidOf(uuid)}/root/dev/nova-vol-${vol.volumeId}`).isBlockDevice()).toBe(true);
        expect(await volumes.witness()).toHaveLength(1);
        await withLoop.destroy(uuid);
        expect(await loop.listConnected()).toEqual([]);
        expect(await volumes.witness()).toEqual([]);
        expect(bridgeExists()).toBe(false);
      } finally {
        await withLoop.cleanupHost();
      }
    });

    it('declares the connector\'s transports', async () => {
      expect((await driver.getCapabilities()).volumeTransports).toEqual(['file']);
    });
  });
}
