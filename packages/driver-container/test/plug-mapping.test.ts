import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlavorSchema, ImageMetaSchema } from '@nova-common/core';
import { ContainerDriverConfigSchema } from '../src/config.js';
import { assertSafe, buildContainerConfig } from '../src/mapping/container-config.js';
import { mountsOf } from '../src/mapping/mounts.js';
import { capabilitiesOf, CAPABILITY_NOTES } from '../src/driver/capabilities.js';
import { moveCommands } from '../src/driver/netns.js';
import { nextIfname } from '../src/driver/vif-records.js';

const naming = { namePrefix: 'nova', labelPrefix: 'io.nova-common', ownerId: 'default' };
const fixtures = path.join(import.meta.dirname, 'fixtures');

function golden(name: string, value: unknown): void {
  const file = path.join(fixtures, `${name}.json`);
  const text = JSON.stringify(value, null, 2) + '\n';
  if (!existsSync(file) || process.env['UPDATE_GOLDEN'] === '1') writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

// Volumes as the volume connector answered them: the connector's path, and the connection info its disconnect takes.
const connected = [
  {
    volumeId: 'aaaaaaaa-2222-4333-8444-555555555555',
    target: '/volumes/aaaaaaaa-2222-4333-8444-555555555555',
    source: '/srv/connector/volume-01.img',
    kind: 'file' as const,
    connectionInfo: { driverVolumeType: 'file' as const, path: '/srv/connector/volume-01.img' },
  },
  {
    volumeId: 'bbbbbbbb-2222-4333-8444-555555555555',
    target: '/dev/nova-vol-bbbbbbbb-2222-4333-8444-555555555555',
    source: '/dev/loop9',
    kind: 'block' as const,
    connectionInfo: { driverVolumeType: 'file' as const, path: '/srv/connector/volume-02.img' },
  },
];

function pluggedBody() {
  return buildContainerConfig({
    naming,
    imageRef: 'nova-common/busybox:latest',
    labels: {
      uuid: '11111111-2222-4333-8444-555555555555',
      name: 'plugged',
      metadata: {},
      flavor: FlavorSchema.parse({ id: 'm1.tiny', name: 'm1.tiny', vcpus: 1, memoryMb: 64, rootGb: 1 }),
      node: 'host-a',
      image: ImageMetaSchema.parse({ id: 'nova-common/busybox:latest', diskFormat: 'raw', containerFormat: 'docker' }),
      volumes: connected,
    },
    baseNetwork: 'none',
    hostCpus: 2,
    pidsLimit: 1024,
    init: true,
    stopTimeoutSeconds: 10,
  });
}

describe('plug mapping', () => {
  it('a container whose ports the VIF plugin wires: network mode none, no endpoints; connected volumes as mounts and devices (golden)', () => {
    const body = pluggedBody();
    expect(body.HostConfig.NetworkMode).toBe('none');
    expect(body.NetworkingConfig).toBeUndefined();
    expect(() => assertSafe(body, new Set(connected.map((v) => v.source)))).not.toThrow();
    golden('container-config-plugged', body);
  });

  it('connected volumes: a file is bind-mounted, a block device mapped, from the path the connector answered', () => {
    expect(mountsOf(connected)).toEqual({
      mounts: [{ Type: 'bind', Source: '/srv/connector/volume-01.img', Target: '/volumes/aaaaaaaa-2222-4333-8444-555555555555', ReadOnly: false }],
      devices: [{ PathOnHost: '/dev/loop9', PathInContainer: '/dev/nova-vol-bbbbbbbb-2222-4333-8444-555555555555', CgroupPermissions: 'rwm' }],
    });
  });

  it('moving a veth peer into a container: argument arrays for ip and nsenter (golden)', () => {
    golden('netns-move-commands', { withMtu: moveCommands(4242, 'vgab12cd34-5e', 'eth1', 1450), withoutMtu: moveCommands(7, 'vg01', 'eth0') });
    expect(moveCommands(7, 'vg01', 'eth0')[0]).toEqual(['ip', ['link', 'set', 'dev', 'vg01', 'netns', '7']]);
  });

  it('interface names inside the container: the lowest free eth<N>', () => {
    const vif = { id: 'x', address: 'fa:16:3e:00:00:01', network: { id: 'n' }, type: 'bridge' } as never;
    expect(nextIfname([])).toBe('eth0');
    expect(nextIfname([{ vif, ifname: 'eth0' }, { vif, ifname: 'eth2' }])).toBe('eth1');
    expect(nextIfname([{ vif, ifname: 'eth0' }, { vif, ifname: 'eth1' }])).toBe('eth2');
    expect(nextIfname([{ vif, ifname: 'eth1' }], ['lo', 'eth0'])).toBe('eth2');
  });

  it('capabilities with plugs: the connector\'s transports, no move between engines, attach-interface through the plugin', () => {
    const caps = capabilitiesOf('docker', true, { vifPlugin: true, volumeTransports: ['file'] });
    expect(caps.volumeTransports).toEqual(['file']);
    expect(caps.capabilities['operation.migrate'].level).toBe('missing');
    expect(caps.capabilities['operation.resize-in-place'].level).not.toBe('missing');
    expect(caps.capabilities['operation.attach-interface']).toEqual({ level: 'partial', notes: CAPABILITY_NOTES.attachInterfacePlugged });
    // Without plugs: as before.
    const plain = capabilitiesOf('docker', true);
    expect(plain.volumeTransports).toEqual(['file', 'block']);
    expect(plain.capabilities['operation.migrate'].level).toBe('partial');
    expect(plain).toEqual(capabilitiesOf('docker', true, { vifPlugin: false }));
  });

  it('configuration: plug specs are optional and checked', () => {
    expect(ContainerDriverConfigSchema.parse({}).vifPlugin).toBeUndefined();
    const parsed = ContainerDriverConfigSchema.parse({
      vifPlugin: { use: '@nova-common/plugs#createVethPlugin' },
      volumeConnector: { use: '@nova-common/plugs#createFileConnector', config: { roots: ['/srv/volumes'], stateDir: '/var/lib/x' } },
    });
    expect(parsed.vifPlugin?.use).toBe('@nova-common/plugs#createVethPlugin');
    const bad = ContainerDriverConfigSchema.safeParse({ vifPlugin: { use: 'two words#x' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['vifPlugin', 'use']);
  });
});
