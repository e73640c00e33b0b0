import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver } from '@nova-common/core';
import { createLinuxBridgeTapPlugin, createLoopConnector } from '@nova-common/plugs';
import { makeVolumeDirs, sh, volumeFixtures } from '@nova-common/plugs/testing';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { DRIVER_NAME } from '../src/driver-name.js';
import { formatMigrationAddress } from '../src/mapping/migration-address.js';
import { childNamed, childrenNamed, parseXml } from '../src/mapping/xml-tree.js';
import { SOCKET, requireGuest, requireLibvirtd, waitUntil } from './helpers/backend.js';
import { guestSpec, qemuConfig, waitConsole } from './helpers/qemu.js';

/**
 * A real QEMU/TCG guest whose NICs are taps of the Linux bridge tap plugin (on a bridge the
 * plugin creates, named for this test, in the host's namespace where QEMU opens them) and whose
 * hot-plugged disk is a loop device of the loop connector: the guest itself reports the NIC
 * (its MAC and the network's MTU) and the disk on its console.
 */

const tag = randomBytes(3).toString('hex');
const BRIDGE = `ncbr${tag}`;
const TAP_A = `nctap${tag}a`;
const TAP_B = `nctap${tag}b`;
const MAC_A = `fa:16:3e:${tag.slice(0, 2)}:${tag.slice(2, 4)}:0a`;
const MAC_B = `fa:16:3e:${tag.slice(0, 2)}:${tag.slice(2, 4)}:0b`;

let dirs: ReturnType<typeof makeVolumeDirs>;
let volumes: ReturnType<typeof volumeFixtures>;
let driver: GuardedDriver;
let uuid = '';

const present = (dev: string): boolean => existsSync(`/sys/class/net/${dev}`);
const masterOf = (dev: string): string | undefined => (existsSync(`/sys/class/net/${dev}/master`) ? basename(readlinkSync(`/sys/class/net/${dev}/master`)) : undefined);

async function liveXml(): Promise<string> {
  const c = new LibvirtClient({ socketPath: SOCKET, uri: 'qemu:///system', keepaliveIntervalMs: 0 });
  await c.connect();
  try {
    return await c.getXmlDesc(await c.lookupByUuid(uuid));
  } finally {
    await c.close();
  }
}

const nics = (xml: string) =>
  childrenNamed(childNamed(parseXml(xml), 'devices'), 'interface').map((i) => ({
    type: i.attrs['type'],
    dev: childNamed(i, 'target')?.attrs['dev'],
    managed: childNamed(i, 'target')?.attrs['managed'],
    mac: childNamed(i, 'mac')?.attrs['address'],
  }));
const diskSources = (xml: string) =>
  childrenNamed(childNamed(parseXml(xml), 'devices'), 'disk').map((d) => ({ type: d.attrs['type'], source: childNamed(d, 'source')?.attrs['dev'] ?? childNamed(d, 'source')?.attrs['file'], serial: childNamed(d, 'serial')?.text }));

beforeAll(async () => {
  await requireLibvirtd('qemu:///system');
  requireGuest();
  dirs = makeVolumeDirs();
  volumes = volumeFixtures(dirs);
  driver = guard(
    createLibvirtDriver(qemuConfig('nova-plugq-', { kernelArgs: 'console=ttyS0 panic=-1' }), {
      vifPlugin: createLinuxBridgeTapPlugin(),
      volumeConnector: createLoopConnector({ roots: [dirs.root], stateDir: dirs.state }),
    }),
  );
  await driver.initHost();
});

afterAll(async () => {
  if (uuid) await driver?.destroy(uuid).catch(() => undefined);
  await driver?.cleanupHost();
  // Whatever a failed test left of its own: its taps and bridge, loop devices on its volume files.
  for (const dev of [TAP_A, TAP_B, BRIDGE]) if (present(dev)) sh('ip', ['link', 'del', dev]);
  for (const entry of (await volumes?.witness().catch(() => [])) ?? []) sh('losetup', ['--detach', entry.split('=')[0]!]);
  dirs?.remove();
});

describe('a QEMU guest on the plugs', () => {
  it('boots with its NIC on a plugged tap, hot-plugs a plugged NIC and a loop-device volume, and destroy removes them all', async () => {
    const vifA = { id: randomUUID(), address: MAC_A.toUpperCase(), network: { id: 'net-plug', bridge: BRIDGE, mtu: 1400 }, devname: TAP_A };
    const s = guestSpec({ networkInfo: [vifA] });
    uuid = s.uuid;
    await driver.spawn(s);
    const boot = await waitConsole(driver, uuid, /NOVA-GUEST: READY/);
    // The plugin made the tap (and the bridge) before the domain was defined; the guest's NIC opened it.
    expect(boot).toContain(`NOVA-GUEST: NET+ eth0 mac=${MAC_A} mtu=1400`);
    expect(masterOf(TAP_A)).toBe(BRIDGE);
    expect(readFileSync(`/sys/class/net/${TAP_A}/mtu`, 'utf8').trim()).toBe('1400');
    expect(nics(await liveXml())).toEqual([{ type: 'ethernet', dev: TAP_A, managed: 'no', mac: MAC_A }]);

    // attachInterface: plugged, then attached.
    const vifB = { id: randomUUID(), address: MAC_B, network: { id: 'net-plug', bridge: BRIDGE }, devname: TAP_B };
    await driver.attachInterface(uuid, vifB);
    await waitConsole(driver, uuid, new RegExp(`NOVA-GUEST: NET\\+ eth1 mac=${MAC_B}`));
    expect(masterOf(TAP_B)).toBe(BRIDGE);
    expect(nics(await liveXml()).map((n) => [n.type, n.dev])).toEqual([
      ['ethernet', TAP_A],
      ['ethernet', TAP_B],
    ]);

    // attachVolume: connected (a loop device on the volume's file), then attached.
    const vol = await volumes.makeVolume(1, 8 * 1024 * 1024);
    await driver.attachVolume(uuid, { volumeId: vol.volumeId, connectionInfo: vol.connectionInfo });
    await waitConsole(driver, uuid, /NOVA-GUEST: BLOCK\+ vdb/);
    const loops = await volumes.witness();
    expect(loops).toHaveLength(1);
    const loop = loops[0]!.split('=')[0]!;
    expect(diskSources(await liveXml()).find((d) => d.serial === vol.volumeId)).toEqual({ type: 'block', source: loop, serial: vol.volumeId });

    // detachVolume: detached, then disconnected (the loop device is released).
    await driver.detachVolume(uuid, vol.volumeId);
    await waitConsole(driver, uuid, /NOVA-GUEST: BLOCK- vdb/);
    expect(await volumes.witness()).toEqual([]);

    // detachInterface: detached, then unplugged (the tap is gone, the bridge stays for the other port).
    await driver.detachInterface(uuid, vifB.id);
    await waitConsole(driver, uuid, /NOVA-GUEST: NET- eth1/);
    expect(present(TAP_B)).toBe(false);
    expect(present(BRIDGE)).toBe(true);

    // A volume attached at destroy time is disconnected by the destroy.
    const vol2 = await volumes.makeVolume(2, 8 * 1024 * 1024);
    await driver.attachVolume(uuid, { volumeId: vol2.volumeId, connectionInfo: vol2.connectionInfo });
    await waitUntil('the loop device of the second volume', async () => (await volumes.witness()).length === 1, 10_000);

    await driver.destroy(uuid);
    expect(present(TAP_A)).toBe(false);
    // The bridge the plugin created went with its last port.
    expect(present(BRIDGE)).toBe(false);
    expect(await volumes.witness()).toEqual([]);
    uuid = '';
  }, 300_000);

  it('refuses to move an instance on the plugs to another host, and says so in its capabilities', async () => {
    const vif = { id: randomUUID(), address: MAC_A, network: { id: 'net-plug', bridge: BRIDGE }, devname: TAP_A };
    const s = guestSpec({ networkInfo: [vif], powerOn: false });
    uuid = s.uuid;
    await driver.spawn(s);
    const address = formatMigrationAddress({
      daemonUri: 'qemu+unix:///system?socket=/run/nova-common/no-such-host/libvirt-sock',
      socketPath: '/run/nova-common/no-such-host/libvirt-sock',
      openUri: 'qemu:///system',
      instancesDir: '/var/lib/libvirt/images/nova-common/no-such-host',
      listen: '127.0.0.1',
    });
    // A cold move of the stopped instance (a live one would be INVALID_STATE before anything else).
    const target = { migrationId: randomUUID(), kind: 'COLD' as const, driver: DRIVER_NAME, instanceUuid: uuid, node: 'elsewhere', flavor: s.flavor, sameHost: false, address };
    await expect(driver.migrate(uuid, target)).rejects.toMatchObject({ code: 'UNSUPPORTED', capability: 'operation.migrate' });
    // It stays as it was, tap included.
    expect((await driver.getInfo(uuid)).powerState).toBe('SHUTDOWN');
    expect(masterOf(TAP_A)).toBe(BRIDGE);

    // An attach libvirt refuses (a multicast MAC, which the plugin takes but libvirt does not): the tap plugged for it goes again.
    const refused = { id: randomUUID(), address: '01:16:3e:00:00:0b', network: { id: 'net-plug', bridge: BRIDGE }, devname: TAP_B };
    // libvirt's own refusal (the plugin plugged the tap before it).
    await expect(driver.attachInterface(uuid, refused)).rejects.toThrow(/multicast/);
    expect((await driver.getInfo(uuid)).interfaces.map((i) => i.id)).toEqual([vif.id]);
    expect(present(TAP_B)).toBe(false);
    expect(masterOf(TAP_A)).toBe(BRIDGE);
    await driver.destroy(uuid);
    expect(present(TAP_A)).toBe(false);
    expect(present(BRIDGE)).toBe(false);
    uuid = '';
    const caps = await driver.getCapabilities();
    expect(caps.capabilities['operation.migrate']?.level).toBe('partial');
    expect(caps.capabilities['operation.live-migrate']?.level).toBe('partial');
    expect(caps.volumeTransports).toEqual(['file']);
  });
});
