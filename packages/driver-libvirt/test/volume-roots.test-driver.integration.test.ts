import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { guard, type GuardedDriver, type InstanceSpecInput } from '@nova-common/core';
import { createLibvirtDriver, type LibvirtDriver } from '../src/driver/driver.js';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { bytesToUuid } from '../src/client/protocol/remote-types.js';
import { parseDomainXml } from '../src/mapping/xml-read.js';
import { SOCKET, requireLibvirtd } from './helpers/backend.js';

/**
 * File volumes only from the allowlisted roots, on libvirt's test driver through libvirtd and
 * the guard: a path outside the roots (directly, or through a symlink inside them) is refused
 * with INVALID_INPUT naming the field before any libvirt call, and leaves nothing behind; a
 * path inside is given to the domain resolved.
 */
const PREFIX = 'nvroots-';
let tmp: string;
let root: string;
let unguarded: LibvirtDriver;
let driver: GuardedDriver;
let raw: LibvirtClient;

type VolumesInput = NonNullable<NonNullable<InstanceSpecInput['blockDeviceInfo']>['volumes']>;

function spec(volumes: VolumesInput): InstanceSpecInput {
  return {
    uuid: randomUUID(),
    name: 'volume-roots',
    flavor: { id: 'f1', name: 'm1.tiny', vcpus: 1, memoryMb: 256, rootGb: 1 },
    image: { id: 'cirros', diskFormat: 'qcow2', containerFormat: 'bare' },
    blockDeviceInfo: { volumes },
  };
}

/** Domains on the backend whose uuid is this one (any name, owned or not). */
async function domainsWith(uuid: string): Promise<number> {
  return (await raw.listAllDomains()).filter((d) => bytesToUuid(d.uuid) === uuid).length;
}

beforeAll(async () => {
  await requireLibvirtd('test:///default');
  tmp = await realpath(await mkdtemp(join(tmpdir(), 'nova-volume-roots-')));
  root = join(tmp, 'volumes');
  await mkdir(root);
  await mkdir(join(tmp, 'outside'));
  await writeFile(join(tmp, 'outside', 'secret.img'), 'secret');
  await symlink('../outside/secret.img', join(root, 'escape.img'));
  await symlink('volumes', join(tmp, 'volumes-link'));
  raw = new LibvirtClient({ socketPath: SOCKET, uri: 'test:///default' });
  await raw.connect();
  // The root is configured through a symlink: the check and the domain use where it leads.
  unguarded = createLibvirtDriver({ uri: 'test:///default', socketPath: SOCKET, namePrefix: PREFIX, volumeRoots: [join(tmp, 'volumes-link')] });
  driver = guard(unguarded);
  await driver.initHost();
});

afterAll(async () => {
  for (const i of (await driver?.listInstances().catch(() => [])) ?? []) await driver.destroy(i.uuid);
  await driver?.cleanupHost();
  await raw?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('file volumes outside the volume roots', () => {
  it('are refused at spawn with INVALID_INPUT naming the field, before any libvirt call, leaving nothing behind', async () => {
    const calls = vi.spyOn(unguarded.libvirt.connection, 'call');
    try {
      const outside = [
        { driverVolumeType: 'file' as const, path: join(tmp, 'outside', 'secret.img') },
        { driverVolumeType: 'file' as const, path: join(root, 'escape.img') },
        { driverVolumeType: 'file' as const, path: '/etc/passwd' },
        { driverVolumeType: 'block' as const, devicePath: '/dev/sda' },
      ];
      for (const connectionInfo of outside) {
        const inside = { volumeId: randomUUID(), connectionInfo: { driverVolumeType: 'file' as const, path: join(root, 'ok.img') } };
        const s = spec([inside, { volumeId: randomUUID(), connectionInfo }]);
        calls.mockClear();
        const err = await driver.spawn(s).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'INVALID_INPUT' });
        const field = connectionInfo.driverVolumeType === 'file' ? 'path' : 'devicePath';
        expect((err as { issues: { path: unknown[] }[] }).issues.map((i) => i.path)).toEqual([['spec', 'blockDeviceInfo', 'volumes', 1, 'connectionInfo', field]]);
        expect(calls).not.toHaveBeenCalled();
        // Nothing left: no domain of that uuid on the backend, no instance.
        expect(await domainsWith(s.uuid)).toBe(0);
        await expect(driver.getInfo(s.uuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
      }
    } finally {
      calls.mockRestore();
    }
    expect((await driver.listInstances()).length).toBe(0);
  });

  it('inside the root are given to the domain resolved, not as the caller wrote them', async () => {
    const volumeId = randomUUID();
    const s = spec([{ volumeId, connectionInfo: { driverVolumeType: 'file', path: join(tmp, 'volumes-link', 'data.img') } }]);
    await driver.spawn(s);
    expect(await domainsWith(s.uuid)).toBe(1);
    const dom = (await raw.listAllDomains()).find((d) => bytesToUuid(d.uuid) === s.uuid)!;
    const disks = parseDomainXml(await raw.getXmlDesc(dom)).disks;
    expect(disks.find((d) => d.serial?.toLowerCase() === volumeId)?.source).toBe(join(root, 'data.img'));
    expect((await driver.getInfo(s.uuid)).volumes).toMatchObject([{ volumeId }]);
    await driver.destroy(s.uuid);
    expect(await domainsWith(s.uuid)).toBe(0);
  });
});
