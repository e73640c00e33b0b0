import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildDomainXml, defaultCpu, diskCache, diskXml, instanceDomainName, interfaceXml, isInstanceDomainName, volumeDiskXml, type DomainEnvironment } from '../src/mapping/domain-xml.js';
import { parseDomainXml } from '../src/mapping/xml-read.js';
import type { InstanceRecord } from '../src/mapping/instance-record.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.xml`, import.meta.url));

/** Compare with test/fixtures/<name>.xml; UPDATE_GOLDENS=1 rewrites the file. */
function golden(name: string, actual: string): void {
  const path = fixture(name);
  if (process.env['UPDATE_GOLDENS'] === '1') writeFileSync(path, actual);
  if (!existsSync(path)) throw new Error(`golden file ${path} is missing; run with UPDATE_GOLDENS=1 to create it`);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

const base: InstanceRecord = {
  uuid: '6f1c2a7e-1b2c-4d3e-8f40-5a6b7c8d9e0f',
  ownerPrefix: 'nova-',
  session: 'a0000000-0000-4000-8000-000000000001',
  since: '2026-01-02T03:04:05.000Z',
  mode: 'normal',
  name: 'web-1',
  flavor: { id: 'm1.small', name: 'm1.small', vcpus: 2, memoryMb: 2048, rootGb: 20, ephemeralGb: 0, swapMb: 0, extraSpecs: {} },
  image: { id: 'cirros-0.6.2', diskFormat: 'qcow2', containerFormat: 'bare', diskBus: 'virtio', vifModel: 'virtio' },
  metadata: { role: 'web' },
  localDisks: [],
  volumes: [],
  interfaces: [],
};

const testEnv: DomainEnvironment = { domainType: 'test', domainName: 'nova-6f1c2a7e-1b2c-4d3e-8f40-5a6b7c8d9e0f-0a1b2c3d', instanceDir: '/srv/nova/instances/6f1c2a7e-1b2c-4d3e-8f40-5a6b7c8d9e0f', consoleLog: false };
const qemuEnv: DomainEnvironment = {
  domainType: 'qemu',
  domainName: 'nova-6f1c2a7e-1b2c-4d3e-8f40-5a6b7c8d9e0f-0a1b2c3d',
  instanceDir: '/srv/nova/instances/6f1c2a7e-1b2c-4d3e-8f40-5a6b7c8d9e0f',
  kernel: '/var/lib/libvirt/images/nova-common/vmlinuz',
  initrd: '/var/lib/libvirt/images/nova-common/initrd.img',
  kernelArgs: 'console=ttyS0 quiet',
  consoleLog: true,
  cpu: defaultCpu('qemu'),
  caches: { file: diskCache('none'), block: diskCache('none') },
};
/** A KVM host booting images from their disk, whose filesystem has no O_DIRECT (writeback). */
const kvmEnv: DomainEnvironment = {
  domainType: 'kvm',
  domainName: qemuEnv.domainName,
  instanceDir: qemuEnv.instanceDir,
  consoleLog: true,
  cpu: defaultCpu('kvm'),
  caches: { file: diskCache('writeback'), block: diskCache('none') },
};

const full: InstanceRecord = {
  ...base,
  name: 'db <primary> & "replica" \'1\'',
  flavor: { ...base.flavor, ephemeralGb: 1, swapMb: 512, extraSpecs: { 'hw:cpu_policy': 'dedicated', 'resources:CUSTOM_GPU': '1' } },
  image: { id: 'debian-12', diskFormat: 'raw', containerFormat: 'bare', diskBus: 'scsi', vifModel: 'e1000', machine: 'pc-i440fx-7.2' },
  metadata: { 'a&b': '<x/>', empty: '', ctrl: 'bell\u0007', crlf: 'line1\r\nline2' },
  localDisks: [
    { kind: 'ephemeral', target: 'sdb', bus: 'scsi', sizeMb: 1024 },
    { kind: 'swap', target: 'sdc', bus: 'scsi', sizeMb: 512 },
  ],
  volumes: [
    { id: 'aaaaaaaa-0000-4000-8000-000000000001', target: 'vdb', bus: 'virtio', source: 'file', path: "/srv/volumes/it's a <file>.img", sizeGb: 1, deleteOnTermination: false },
    { id: 'aaaaaaaa-0000-4000-8000-000000000002', target: 'vdc', bus: 'virtio', source: 'block', path: '/dev/mapper/vol&2', deviceName: '/dev/vdc', deleteOnTermination: true },
  ],
  interfaces: [{ id: 'bbbbbbbb-0000-4000-8000-000000000001', mac: 'fa:16:3e:aa:bb:cc', model: 'e1000', address: 'FA:16:3E:AA:BB:CC' }],
};

/** A Windows image converted from vmdk, on a bridge with an MTU and a tap name, and on a VIF without a bridge. */
const windows: InstanceRecord = {
  ...base,
  image: { id: 'win-2022.vmdk', diskFormat: 'vmdk', containerFormat: 'bare', diskBus: 'virtio', vifModel: 'virtio', osType: 'windows' },
  volumes: [{ id: 'aaaaaaaa-0000-4000-8000-000000000003', target: 'vdb', bus: 'virtio', source: 'file', path: '/srv/volumes/v3.img', deleteOnTermination: false }],
  interfaces: [
    { id: 'bbbbbbbb-0000-4000-8000-000000000002', mac: 'fa:16:3e:00:00:02', model: 'virtio', address: 'fa:16:3e:00:00:02', bridge: 'br-int', mtu: 1450, devname: 'tapbbbbbbbb-00' },
    { id: 'bbbbbbbb-0000-4000-8000-000000000003', mac: 'fa:16:3e:00:00:03', model: 'virtio', address: 'fa:16:3e:00:00:03' },
  ],
};

describe('domain XML goldens', () => {
  it('minimal instance on the test driver', () => {
    golden('test-minimal', buildDomainXml(base, testEnv));
  });

  it('QEMU direct-boot instance with local disks, volumes, an interface and escaped strings', () => {
    golden('qemu-full', buildDomainXml(full, qemuEnv));
  });

  it('rescue mode boots the rescue disk first with the original disk second, without local disks or volumes', () => {
    const xml = buildDomainXml({ ...full, mode: 'rescue', rescueImage: { ...base.image, id: 'rescue-img', diskFormat: 'raw' } }, qemuEnv);
    golden('qemu-rescue', xml);
    const disks = parseDomainXml(xml).disks;
    // The instance's root is on scsi, the rescue image on virtio: the original is the first scsi disk.
    expect(disks.map((d) => [d.target, d.source?.split('/').pop()])).toEqual([
      ['vda', 'disk.rescue'],
      ['sda', 'disk'],
    ]);
    const sameBus = parseDomainXml(buildDomainXml({ ...full, image: { ...full.image, diskBus: 'virtio' }, mode: 'rescue', rescueImage: { ...base.image, id: 'rescue-img' } }, qemuEnv)).disks;
    expect(sameBus.map((d) => [d.target, d.source?.split('/').pop()])).toEqual([
      ['vda', 'disk.rescue'],
      ['vdb', 'disk'],
    ]);
  });

  it('KVM: host-model CPU, writeback where O_DIRECT is missing, localtime for Windows, a converted image read as raw, bridge and user NICs', () => {
    const xml = buildDomainXml(windows, kvmEnv);
    golden('kvm-windows-bridge', xml);
    expect(xml).toContain('<cpu mode="host-model">');
    expect(xml).toContain('<clock offset="localtime">');
    expect(xml).toContain('<driver name="qemu" type="raw" cache="writeback"/>');
    expect(xml).toContain('<interface type="bridge">');
    expect(xml).toContain('<target dev="tapbbbbbbbb-00"/>');
    expect(xml).toContain('<mtu size="1450"/>');
    expect(parseDomainXml(xml).record).toEqual(windows);
  });

  it('a custom CPU model, and host-passthrough', () => {
    golden('qemu-cpu-custom', buildDomainXml(base, { ...qemuEnv, cpu: { mode: 'custom', model: 'Haswell-noTSX' } }));
    expect(buildDomainXml(base, { ...qemuEnv, cpu: { mode: 'host-passthrough' } })).toContain('<cpu mode="host-passthrough">');
  });

  it('the default CPU: host-model under KVM, maximum (QEMU max) under TCG', () => {
    expect(defaultCpu('kvm')).toEqual({ mode: 'host-model' });
    expect(defaultCpu('qemu')).toEqual({ mode: 'maximum' });
  });

  it('io native only with a cache mode that bypasses the host page cache', () => {
    expect(diskCache('none')).toEqual({ cache: 'none', io: 'native' });
    expect(diskCache('directsync')).toEqual({ cache: 'directsync', io: 'native' });
    for (const c of ['writeback', 'writethrough', 'unsafe'] as const) expect(diskCache(c)).toEqual({ cache: c });
  });

  it('device snippets for hot-plug', () => {
    golden('device-snippets', [
      diskXml({ type: 'file', path: '/v/a"b.img', format: 'raw', target: 'vdb', bus: 'virtio', serial: 'aaaaaaaa-0000-4000-8000-000000000001' }),
      diskXml({ type: 'block', path: '/dev/sdz', format: 'raw', target: 'fda', bus: 'fdc' }),
      interfaceXml({ mac: 'FA:16:3E:00:00:01', model: 'virtio' }),
      interfaceXml({ mac: 'FA:16:3E:00:00:02', model: 'e1000', bridge: 'br-<x>', mtu: 9000, devname: 'tap&1' }),
      volumeDiskXml({ id: 'aaaaaaaa-0000-4000-8000-000000000004', target: 'vdc', bus: 'virtio', source: 'block', path: '/dev/sdy', deleteOnTermination: false }, { file: diskCache('writeback'), block: diskCache('none') }),
    ].join('\n') + '\n');
  });
});

describe('domain XML read back', () => {
  it('gives back the record and the devices of the golden instance', () => {
    const parsed = parseDomainXml(buildDomainXml(full, qemuEnv));
    expect(parsed.name).toBe(qemuEnv.domainName);
    expect(parsed.uuid).toBe(full.uuid);
    expect(parsed.record).toEqual(full);
    expect(parsed.disks.map((d) => [d.target, d.bus, d.serial])).toEqual([
      ['sda', 'scsi', undefined],
      ['sdb', 'scsi', undefined],
      ['sdc', 'scsi', undefined],
      ['vdb', 'virtio', 'aaaaaaaa-0000-4000-8000-000000000001'],
      ['vdc', 'virtio', 'aaaaaaaa-0000-4000-8000-000000000002'],
    ]);
    expect(parsed.disks[3]!.source).toBe("/srv/volumes/it's a <file>.img");
    expect(parsed.interfaces).toEqual([{ mac: 'fa:16:3e:aa:bb:cc', model: 'e1000' }]);
  });

  it('ignores a domain without the ownership marker, or with the marker in another namespace', () => {
    const foreign = `<domain type='test'><name>nova-x</name><uuid>6f1c2a7e-1b2c-4d3e-8f40-5a6b7c8d9e0f</uuid><metadata><nova:instance xmlns:nova="urn:someone-else"><nova:owner>nova-common/driver-libvirt</nova:owner></nova:instance></metadata><devices/></domain>`;
    expect(parseDomainXml(foreign).record).toBeUndefined();
    const bare = `<domain type='test'><name>test</name><uuid>6f1c2a7e-1b2c-4d3e-8f40-5a6b7c8d9e0f</uuid></domain>`;
    expect(parseDomainXml(bare).record).toBeUndefined();
  });

  it('reads whether the domain runs from its id, which libvirt writes on active domains only', () => {
    expect(parseDomainXml(`<domain type='test' id='4'><name>n</name><uuid>6f1c2a7e-1b2c-4d3e-8f40-5a6b7c8d9e0f</uuid></domain>`).active).toBe(true);
    expect(parseDomainXml(`<domain type='test'><name>n</name><uuid>6f1c2a7e-1b2c-4d3e-8f40-5a6b7c8d9e0f</uuid></domain>`).active).toBe(false);
  });
});

describe('domain names', () => {
  const uuid = '6f1c2a7e-1b2c-4d3e-8f40-5a6b7c8d9e0f';

  it('are the prefix, the instance uuid and the tag of the spawn', () => {
    expect(instanceDomainName('nova-', uuid, '0a1b2c3d')).toBe(`nova-${uuid}-0a1b2c3d`);
  });

  it('are recognised with a tag, or without one (earlier versions), and nothing else', () => {
    expect(isInstanceDomainName('nova-', uuid, `nova-${uuid}-0a1b2c3d`)).toBe(true);
    expect(isInstanceDomainName('nova-', uuid, `nova-${uuid}`)).toBe(true);
    for (const other of [`nova-${uuid}-0a1b2c3`, `nova-${uuid}-0A1B2C3D`, `nova-${uuid}-0a1b2c3d-x`, `nova-${uuid}x`, `other-${uuid}`, `nova-${uuid.replace('6', '7')}`, 'test']) {
      expect(isInstanceDomainName('nova-', uuid, other)).toBe(false);
    }
  });
});
