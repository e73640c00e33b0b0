import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriverError, VifSchema, VifTypeSchema, VnicTypeSchema, guard, type InstanceSpecInput } from '@nova-common/core';
import { LibvirtDriverConfigSchema } from '../src/config.js';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { interfaceRecord, vifIssues } from '../src/driver/vifs.js';

/**
 * The wall of what a guest gets: VIFs the driver cannot wire, images it cannot make a disk of,
 * and roots too small, refused with INVALID_INPUT naming the field before any libvirt call (the
 * drivers here point at a socket nobody listens on: reaching libvirtd would be BACKEND_UNAVAILABLE).
 */

const run = promisify(execFile);
const vif = (over: Record<string, unknown> = {}) => VifSchema.parse({ id: randomUUID(), address: 'FA:16:3E:00:00:01', network: { id: 'net' }, ...over });

describe('VIFs', () => {
  it('only bridge VIFs of vnic type normal are wired; every other type is refused naming the field (pinned)', () => {
    const refused = VifTypeSchema.options.filter((t) => vifIssues(vif({ type: t }), ['vif'], false).length > 0);
    expect(refused).toEqual(['ovs', 'tap', 'vhostuser', 'hw_veb', 'hostdev_physical', 'macvtap', 'ethernet', 'other']);
    expect(vifIssues(vif({ type: 'ovs' }), ['spec', 'networkInfo', 2], false)).toEqual([{ path: ['spec', 'networkInfo', 2, 'type'], message: expect.any(String) }]);
    const vnics = VnicTypeSchema.options.filter((t) => vifIssues(vif({ vnicType: t }), ['vif'], false).length > 0);
    expect(vnics).toEqual(VnicTypeSchema.options.filter((t) => t !== 'normal'));
  });

  it('on the host, the bridge must exist and the tap name must be free', () => {
    expect(vifIssues(vif({ network: { id: 'n', bridge: 'nc-no-such-br' } }), ['vif'], true).map((i) => i.path)).toEqual([['vif', 'network', 'bridge']]);
    expect(vifIssues(vif({ network: { id: 'n', bridge: 'nc-no-such-br' }, devname: 'lo' }), ['vif'], true).map((i) => i.path)).toEqual([
      ['vif', 'network', 'bridge'],
      ['vif', 'devname'],
    ]);
    expect(vifIssues(vif({ network: { id: 'n', bridge: 'lo' } }), ['vif'], true).map((i) => i.path)).toEqual([['vif', 'network', 'bridge']]); // not a bridge
  });

  it('keeps the bridge, MTU and tap name of a bridged VIF; a VIF without a bridge keeps none of them', () => {
    expect(interfaceRecord(vif({ network: { id: 'n', bridge: 'br0', mtu: 1450 }, devname: 'tap1' }), 'virtio')).toMatchObject({ mac: 'fa:16:3e:00:00:01', address: 'FA:16:3E:00:00:01', bridge: 'br0', mtu: 1450, devname: 'tap1' });
    const user = interfaceRecord(vif({ network: { id: 'n', mtu: 1450 }, devname: 'tap1' }), 'virtio');
    expect(user).not.toHaveProperty('bridge');
    expect(user).not.toHaveProperty('mtu');
    expect(user).not.toHaveProperty('devname');
  });
});

describe('guest settings in the configuration', () => {
  it('cpuMode custom needs cpuModel, and cpuModel goes with custom only', () => {
    expect(LibvirtDriverConfigSchema.safeParse({ cpuMode: 'custom' }).error!.issues.map((i) => i.path)).toContainEqual(['cpuModel']);
    expect(LibvirtDriverConfigSchema.safeParse({ cpuModel: 'qemu64' }).error!.issues.map((i) => i.path)).toContainEqual(['cpuModel']);
    expect(LibvirtDriverConfigSchema.safeParse({ cpuMode: 'custom', cpuModel: 'qemu64"/><x' }).success).toBe(false);
    expect(LibvirtDriverConfigSchema.parse({ cpuMode: 'custom', cpuModel: 'Haswell-noTSX', diskCacheMode: 'writeback' })).toMatchObject({ cpuMode: 'custom', cpuModel: 'Haswell-noTSX', diskCacheMode: 'writeback' });
  });
});

describe('spawn refuses at the wall, naming the field, before any libvirt call', () => {
  let dir = '';
  const spec = (over: Partial<InstanceSpecInput>): InstanceSpecInput => ({
    uuid: randomUUID(),
    name: 'g',
    flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 128, rootGb: 1 },
    image: { id: 'img.raw', diskFormat: 'raw', containerFormat: 'bare' },
    ...over,
  });
  const issuePaths = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DriverError);
    expect(err).toMatchObject({ code: 'INVALID_INPUT' });
    return (err as DriverError).issues!.map((i) => i.path);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nova-wall-'));
    await writeFile(join(dir, 'img.ploop'), 'x');
    await run('qemu-img', ['create', '-q', '-f', 'vmdk', join(dir, 'big.vmdk'), '2G']);
    await run('qemu-img', ['create', '-q', '-f', 'raw', join(dir, 'img.raw'), '1M']);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const qemu = () =>
    guard(createLibvirtDriver({ uri: 'qemu:///system', socketPath: join(tmpdir(), 'nobody-listens.sock'), imageDir: dir, instancesDir: join(dir, 'instances'), volumeRoots: [join(dir, 'volumes')] }));

  it('a VIF type the driver cannot wire, on the test driver and on QEMU', async () => {
    const test = guard(createLibvirtDriver({ uri: 'test:///default', socketPath: join(tmpdir(), 'nobody-listens.sock') }));
    const s = spec({ networkInfo: [{ id: randomUUID(), address: 'fa:16:3e:00:00:09', network: { id: 'n' }, type: 'vhostuser' }] });
    expect(await issuePaths(test.spawn(s))).toEqual([['spec', 'networkInfo', 0, 'type']]);
    expect(await issuePaths(qemu().spawn(s))).toEqual([['spec', 'networkInfo', 0, 'type']]);
  });

  it('a bridge that does not exist on the host', async () => {
    const s = spec({ networkInfo: [{ id: randomUUID(), address: 'fa:16:3e:00:00:09', network: { id: 'n', bridge: 'nc-missing0' } }] });
    expect(await issuePaths(qemu().spawn(s))).toEqual([['spec', 'networkInfo', 0, 'network', 'bridge']]);
  });

  it('an image format QEMU cannot be given, and a container format', async () => {
    expect(await issuePaths(qemu().spawn(spec({ image: { id: 'img.ploop', diskFormat: 'ploop', containerFormat: 'bare' } })))).toEqual([['spec', 'image', 'diskFormat']]);
    expect(await issuePaths(qemu().spawn(spec({ image: { id: 'img.raw', diskFormat: 'raw', containerFormat: 'ova' } })))).toEqual([['spec', 'image', 'containerFormat']]);
  });

  it("an image bigger than the flavor's root disk", async () => {
    expect(await issuePaths(qemu().spawn(spec({ image: { id: 'big.vmdk', diskFormat: 'vmdk', containerFormat: 'bare' } })))).toEqual([['spec', 'flavor', 'rootGb']]);
  });
});
