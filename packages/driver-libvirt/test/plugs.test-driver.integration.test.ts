import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver, type InstanceSpecInput, type VifInput } from '@nova-common/core';
import { createLinuxBridgeTapPlugin, createLoopConnector } from '@nova-common/plugs';
import { makeNamespace, makeVolumeDirs, sh, testVif, volumeFixtures } from '@nova-common/plugs/testing';
import { createLibvirtDriver, type LibvirtDriver } from '../src/driver/driver.js';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { Flags } from '../src/client/protocol/remote-types.js';
import { parseXml, childNamed, childrenNamed } from '../src/mapping/xml-tree.js';
import { SOCKET, requireLibvirtd } from './helpers/backend.js';

/**
 * The driver with the real plugs of @nova-common/plugs on libvirt's test driver served by
 * libvirtd: the Linux bridge tap plugin in a network namespace this file makes, the loop
 * connector on volume files in a temporary directory. The test driver opens no tap and no
 * device, so what is checked is what the host and the domain XML say: the taps on the bridge
 * in the namespace, the loop devices on the volume files, and the domain's devices.
 */

const PREFIX = 'ncplug-';
const BRIDGE = 'ncbr-lv';
const PACKAGE_DIR = dirname(dirname(fileURLToPath(import.meta.url)));

let keeper: LibvirtClient;
let ns: ReturnType<typeof makeNamespace>;
let dirs: ReturnType<typeof makeVolumeDirs>;
let volumes: ReturnType<typeof volumeFixtures>;
let unguarded: LibvirtDriver;
let driver: GuardedDriver;

/** The driver as a caller builds it: plug objects through the second argument. */
function makeDriver(): LibvirtDriver {
  return createLibvirtDriver(
    { uri: 'test:///default', socketPath: SOCKET, namePrefix: PREFIX },
    { vifPlugin: createLinuxBridgeTapPlugin({ netns: ns.name }), volumeConnector: createLoopConnector({ roots: [dirs.root], stateDir: dirs.state }) },
  );
}

function spec(networkInfo: VifInput[], over: Partial<InstanceSpecInput> = {}): InstanceSpecInput {
  return {
    uuid: randomUUID(),
    name: 'plugged',
    flavor: { id: 'f1', name: 'm1.tiny', vcpus: 1, memoryMb: 128, rootGb: 1 },
    image: { id: 'cirros', diskFormat: 'raw', containerFormat: 'bare' },
    networkInfo,
    ...over,
  };
}

interface Link {
  ifname: string;
  master?: string;
  ifalias?: string;
  linkinfo?: { info_kind?: string };
}
const links = (): Link[] => JSON.parse(sh('ip', ['-n', ns.name, '-d', '-j', 'link', 'show'])) as Link[];
/** The devices in the namespace besides lo. */
const devices = (): string[] => ns.devices().filter((d) => d !== 'lo').sort();

/** The domain's XML as libvirtd has it, or undefined when there is no such domain. */
async function domainXml(uuid: string): Promise<string | undefined> {
  try {
    return await keeper.getXmlDesc(await keeper.lookupByUuid(uuid), Flags.DOMAIN_XML_INACTIVE);
  } catch {
    return undefined;
  }
}

function interfacesOf(xml: string): { type: string | undefined; target: string | undefined; managed: string | undefined; mac: string | undefined }[] {
  const devicesEl = childNamed(parseXml(xml), 'devices');
  return childrenNamed(devicesEl, 'interface').map((i) => ({
    type: i.attrs['type'],
    target: childNamed(i, 'target')?.attrs['dev'],
    managed: childNamed(i, 'target')?.attrs['managed'],
    mac: childNamed(i, 'mac')?.attrs['address'],
  }));
}

function diskSourcesOf(xml: string): { type: string | undefined; source: string | undefined; serial: string | undefined }[] {
  return childrenNamed(childNamed(parseXml(xml), 'devices'), 'disk').map((d) => ({
    type: d.attrs['type'],
    source: childNamed(d, 'source')?.attrs['dev'] ?? childNamed(d, 'source')?.attrs['file'],
    serial: childNamed(d, 'serial')?.text,
  }));
}

beforeAll(async () => {
  await requireLibvirtd('test:///default');
  keeper = new LibvirtClient({ socketPath: SOCKET, uri: 'test:///default', keepaliveIntervalMs: 0 });
  await keeper.connect();
  ns = makeNamespace('lv');
  dirs = makeVolumeDirs();
  volumes = volumeFixtures(dirs);
  unguarded = makeDriver();
  driver = guard(unguarded, { enforceCapabilities: false });
  await driver.initHost();
});

afterAll(async () => {
  for (const i of (await driver?.listInstances().catch(() => [])) ?? []) await driver.destroy(i.uuid).catch(() => undefined);
  await driver?.cleanupHost();
  await keeper?.close();
  // Whatever a failed test left: loop devices on this file's volumes, then the namespace and directories.
  for (const entry of (await volumes?.witness().catch(() => [])) ?? []) sh('losetup', ['--detach', entry.split('=')[0]!]);
  ns?.remove();
  dirs?.remove();
});

beforeEach(() => {
  expect(devices()).toEqual([]);
});

describe('a spawn with the plugs', () => {
  it('plugs a tap per VIF on the bridge and connects the volume before the domain is defined; destroy removes them all', async () => {
    const vol = await volumes.makeVolume(1, 4 * 1024 * 1024);
    const s = spec([testVif(1, BRIDGE), testVif(2, BRIDGE)], {
      blockDeviceInfo: { volumes: [{ volumeId: vol.volumeId, connectionInfo: vol.connectionInfo }] },
    });
    await driver.spawn(s);

    const taps = links().filter((l) => l.master === BRIDGE);
    expect(taps).toHaveLength(2);
    expect(taps.every((l) => l.linkinfo?.info_kind === 'tun')).toBe(true);
    expect(links().find((l) => l.ifname === BRIDGE)?.linkinfo?.info_kind).toBe('bridge');

    const xml = (await domainXml(s.uuid))!;
    const nics = interfacesOf(xml);
    expect(nics.map((n) => [n.type, n.managed, n.mac])).toEqual([
      ['ethernet', 'no', 'fa:16:3e:00:00:01'],
      ['ethernet', 'no', 'fa:16:3e:00:00:02'],
    ]);
    expect(nics.map((n) => n.target).sort()).toEqual(taps.map((t) => t.ifname).sort());

    // The guest's disk is the loop device the connector attached on the volume's file.
    const loops = await volumes.witness();
    expect(loops).toHaveLength(1);
    const [loop, backing] = loops[0]!.split('=');
    expect(backing).toBe((vol.connectionInfo as { path: string }).path);
    expect(diskSourcesOf(xml)).toEqual([{ type: 'block', source: loop, serial: vol.volumeId }]);

    await driver.destroy(s.uuid);
    expect(await domainXml(s.uuid)).toBeUndefined();
    // No tap left, and the bridge the plugin created for them went with its last port.
    expect(devices()).toEqual([]);
    expect(await volumes.witness()).toEqual([]);
    // A second destroy is a no-op.
    await driver.destroy(s.uuid);
  });

  it("a second spawn of an instance's uuid is INSTANCE_EXISTS and leaves the instance's taps and volume alone", async () => {
    const vol = await volumes.makeVolume(6, 1024 * 1024);
    const s = spec([testVif(14, BRIDGE)], { blockDeviceInfo: { volumes: [{ volumeId: vol.volumeId, connectionInfo: vol.connectionInfo }] } });
    await driver.spawn(s);
    const before = { taps: links().filter((l) => l.master === BRIDGE).map((l) => l.ifname), loops: await volumes.witness() };
    await expect(driver.spawn(s)).rejects.toMatchObject({ code: 'INSTANCE_EXISTS' });
    expect({ taps: links().filter((l) => l.master === BRIDGE).map((l) => l.ifname), loops: await volumes.witness() }).toEqual(before);
    expect(before.taps).toHaveLength(1);
    expect(before.loops).toHaveLength(1);
    await driver.destroy(s.uuid);
    expect(devices()).toEqual([]);
    expect(await volumes.witness()).toEqual([]);
  });

  it('a volume two instances hold is disconnected only when the last of them lets go of it', async () => {
    const vol = await volumes.makeVolume(7, 1024 * 1024);
    const withVolume = { blockDeviceInfo: { volumes: [{ volumeId: vol.volumeId, connectionInfo: vol.connectionInfo }] } };
    const a = spec([], withVolume);
    const b = spec([], withVolume);
    await driver.spawn(a);
    await driver.spawn(b);
    const loops = await volumes.witness();
    expect(loops).toHaveLength(1);
    await driver.destroy(a.uuid);
    expect(await volumes.witness()).toEqual(loops);
    // A spawn that connected the held volume, then failed on its next one, does not take it from the instance holding it.
    const outside = await volumes.outsideRoots();
    const failed = spec([testVif(15, BRIDGE)], {
      blockDeviceInfo: { volumes: [{ volumeId: vol.volumeId, connectionInfo: vol.connectionInfo }, { volumeId: randomUUID(), connectionInfo: outside }] },
    });
    await expect(driver.spawn(failed)).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [expect.objectContaining({ path: ['spec', 'blockDeviceInfo', 'volumes', 1, 'connectionInfo', 'path'] })] });
    expect(await volumes.witness()).toEqual(loops);
    expect(links().filter((l) => l.master === BRIDGE)).toEqual([]);
    expect(diskSourcesOf((await domainXml(b.uuid))!)[0]!.source).toBe(loops[0]!.split('=')[0]);
    await driver.destroy(b.uuid);
    expect(await volumes.witness()).toEqual([]);
  });

  it('a VIF without a bridge stays QEMU user-mode networking, and only bridge VIFs are plugged', async () => {
    const s = spec([testVif(3, BRIDGE), { id: randomUUID(), address: 'fa:16:3e:00:01:00', network: { id: 'no-bridge' } }]);
    await driver.spawn(s);
    expect(interfacesOf((await domainXml(s.uuid))!).map((n) => n.type)).toEqual(['ethernet', 'user']);
    expect(links().filter((l) => l.master === BRIDGE)).toHaveLength(1);
    await driver.destroy(s.uuid);
    expect(devices()).toEqual([]);
  });

  it('a spawn whose second plug fails leaves no tap, no bridge and no domain', async () => {
    // The second VIF's bridge names a device that is not a bridge (a tap of the test's own).
    sh('ip', ['-n', ns.name, 'tuntap', 'add', 'dev', 'ncdummy0', 'mode', 'tap']);
    try {
      const s = spec([testVif(4, BRIDGE), { ...testVif(5, 'ncdummy0') }]);
      await expect(driver.spawn(s)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        issues: [expect.objectContaining({ path: ['spec', 'networkInfo', 1, 'network', 'bridge'] })],
      });
      expect(devices()).toEqual(['ncdummy0']);
      expect(await domainXml(s.uuid)).toBeUndefined();
      expect((await driver.listInstances()).map((i) => i.uuid)).not.toContain(s.uuid);
    } finally {
      sh('ip', ['-n', ns.name, 'link', 'del', 'ncdummy0']);
    }
  });

  it('a spawn whose volume cannot be connected unplugs its VIFs and defines nothing', async () => {
    const outside = await volumes.outsideRoots();
    const s = spec([testVif(6, BRIDGE)], { blockDeviceInfo: { volumes: [{ volumeId: randomUUID(), connectionInfo: outside }] } });
    await expect(driver.spawn(s)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      issues: [expect.objectContaining({ path: ['spec', 'blockDeviceInfo', 'volumes', 0, 'connectionInfo', 'path'] })],
    });
    expect(devices()).toEqual([]);
    expect(await volumes.witness()).toEqual([]);
    expect(await domainXml(s.uuid)).toBeUndefined();
  });

  it("a foreign tap named as a VIF's devname is refused naming the field, and left untouched", async () => {
    sh('ip', ['-n', ns.name, 'tuntap', 'add', 'dev', 'nctapforeign', 'mode', 'tap']);
    try {
      const s = spec([{ ...testVif(7, BRIDGE), devname: 'nctapforeign' }]);
      await expect(driver.spawn(s)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        issues: [expect.objectContaining({ path: ['spec', 'networkInfo', 0, 'devname'] })],
      });
      const foreign = links().find((l) => l.ifname === 'nctapforeign');
      expect(foreign?.master).toBeUndefined();
      expect(foreign?.ifalias).toBeUndefined();
      expect(devices()).toEqual(['nctapforeign']);
      expect(await domainXml(s.uuid)).toBeUndefined();
      // Destroy of that uuid touches nothing either.
      await driver.destroy(s.uuid);
      expect(devices()).toEqual(['nctapforeign']);
    } finally {
      sh('ip', ['-n', ns.name, 'link', 'del', 'nctapforeign']);
    }
  });

  it('refuses a VIF type the plugin does not wire, before anything is touched', async () => {
    const s = spec([testVif(8, BRIDGE), { ...testVif(9, BRIDGE), type: 'ovs' }]);
    await expect(driver.spawn(s)).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [expect.objectContaining({ path: ['spec', 'networkInfo', 1, 'type'] })] });
    expect(devices()).toEqual([]);
    expect(await domainXml(s.uuid)).toBeUndefined();
  });
});

describe('after a driver restart', () => {
  it('destroy finds the VIFs and volumes from the domain, with plugs loaded from the configuration', async () => {
    const vol = await volumes.makeVolume(2, 4 * 1024 * 1024);
    const s = spec([testVif(10, BRIDGE), testVif(11, BRIDGE)], { blockDeviceInfo: { volumes: [{ volumeId: vol.volumeId, connectionInfo: vol.connectionInfo }] } });
    await driver.spawn(s);
    expect(links().filter((l) => l.master === BRIDGE)).toHaveLength(2);
    expect(await volumes.witness()).toHaveLength(1);

    // A new driver process: nothing in memory, the plugs named in its configuration.
    const again = guard(
      createLibvirtDriver(
        {
          uri: 'test:///default',
          socketPath: SOCKET,
          namePrefix: PREFIX,
          vifPlugin: { use: '@nova-common/plugs#createLinuxBridgeTapPlugin', config: { netns: ns.name } },
          volumeConnector: { use: '@nova-common/plugs#createLoopConnector', config: { roots: [dirs.root], stateDir: dirs.state } },
        },
        { plugResolveFrom: PACKAGE_DIR },
      ),
      { enforceCapabilities: false },
    );
    await again.initHost();
    try {
      expect((await again.getCapabilities()).volumeTransports).toEqual(['file']);
      await again.destroy(s.uuid);
    } finally {
      await again.cleanupHost();
    }
    expect(await domainXml(s.uuid)).toBeUndefined();
    expect(devices()).toEqual([]);
    expect(await volumes.witness()).toEqual([]);
  });

  it('after a host restart took the taps and loop devices, restoreState plugs and connects again before starting', async () => {
    const vol = await volumes.makeVolume(4, 4 * 1024 * 1024);
    const s = spec([testVif(13, BRIDGE)], { powerOn: false, blockDeviceInfo: { volumes: [{ volumeId: vol.volumeId, connectionInfo: vol.connectionInfo }] } });
    await driver.spawn(s);
    const [tap] = links().filter((l) => l.master === BRIDGE).map((l) => l.ifname);
    const [oldLoop] = (await volumes.witness()).map((e) => e.split('=')[0]!);
    // What a host restart does: the kernel's devices are gone. The old loop number is then taken by someone else.
    sh('ip', ['-n', ns.name, 'link', 'del', tap!]);
    sh('ip', ['-n', ns.name, 'link', 'del', BRIDGE]);
    sh('losetup', ['--detach', oldLoop!]);
    const other = await volumes.makeVolume(5, 1024 * 1024);
    sh('losetup', [oldLoop!, (other.connectionInfo as { path: string }).path]);
    const release = async () => void sh('losetup', ['--detach', oldLoop!]);
    try {
      await driver.restoreState(s.uuid, 'RUNNING');
      expect((await driver.getInfo(s.uuid)).powerState).toBe('RUNNING');
      expect(links().filter((l) => l.master === BRIDGE).map((l) => l.ifname)).toEqual([tap]);
      const ours = (await volumes.witness()).find((e) => e.endsWith(`=${(vol.connectionInfo as { path: string }).path}`));
      expect(ours).toBeDefined();
      const loop = ours!.split('=')[0]!;
      expect(loop).not.toBe(oldLoop);
      // The domain's disk follows the loop device the connector answered now.
      expect(diskSourcesOf((await domainXml(s.uuid))!)).toEqual([{ type: 'block', source: loop, serial: vol.volumeId }]);
      await driver.destroy(s.uuid);
      expect(devices()).toEqual([]);
      expect((await volumes.witness()).filter((e) => !e.endsWith(`=${(other.connectionInfo as { path: string }).path}`))).toEqual([]);
    } finally {
      await release();
    }
  });

  it('a plug that cannot be loaded fails initHost naming the field', async () => {
    const broken = createLibvirtDriver(
      { uri: 'test:///default', socketPath: SOCKET, namePrefix: PREFIX, vifPlugin: { use: '@nova-common/plugs#noSuchFactory' } },
      { plugResolveFrom: PACKAGE_DIR },
    );
    try {
      await expect(broken.initHost()).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [expect.objectContaining({ path: ['config', 'vifPlugin', 'use'] })] });
    } finally {
      await broken.cleanupHost();
    }
    const missing = createLibvirtDriver(
      { uri: 'test:///default', socketPath: SOCKET, namePrefix: PREFIX, volumeConnector: { use: 'nova-common-no-such-package#create' } },
      { plugResolveFrom: PACKAGE_DIR },
    );
    try {
      await expect(missing.initHost()).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [expect.objectContaining({ path: ['config', 'volumeConnector', 'use'] })] });
    } finally {
      await missing.cleanupHost();
    }
  });
});

describe('capabilities and hot-plug on the test driver', () => {
  it("declares the connector's transports; attach and detach stay UNSUPPORTED and plug nothing", async () => {
    expect((await driver.getCapabilities()).volumeTransports).toEqual(['file']);
    const s = spec([]);
    await driver.spawn(s);
    await expect(driver.attachInterface(s.uuid, testVif(12, BRIDGE))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    const vol = await volumes.makeVolume(3, 1024 * 1024);
    await expect(driver.attachVolume(s.uuid, { volumeId: vol.volumeId, connectionInfo: vol.connectionInfo })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    expect(devices()).toEqual([]);
    expect(await volumes.witness()).toEqual([]);
    await driver.destroy(s.uuid);
  });
});
