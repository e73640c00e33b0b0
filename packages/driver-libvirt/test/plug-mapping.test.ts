import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DriverError } from '@nova-common/core';
import { buildDomainXml, defaultCpu, diskCache, interfaceXml, type DomainEnvironment } from '../src/mapping/domain-xml.js';
import { buildInstanceMetadata } from '../src/mapping/metadata-xml.js';
import { parseDomainXml, parseInstanceMetadata } from '../src/mapping/xml-read.js';
import type { InstanceRecord } from '../src/mapping/instance-record.js';
import { asOperationError } from '../src/driver/plugs.js';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { LibvirtDriverConfigSchema } from '../src/config.js';

/** The domain XML of VIFs a VIF plugin plugged and volumes a volume connector connected (plugs.ts). */

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.xml`, import.meta.url));

/** Compare with test/fixtures/<name>.xml; UPDATE_GOLDENS=1 rewrites the file. */
function golden(name: string, actual: string): void {
  const path = fixture(name);
  if (process.env['UPDATE_GOLDENS'] === '1') writeFileSync(path, actual);
  if (!existsSync(path)) throw new Error(`golden file ${path} is missing; run with UPDATE_GOLDENS=1 to create it`);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

const UUID = '6f1c2a7e-1b2c-4d3e-8f40-5a6b7c8d9e0f';
const plugged: InstanceRecord = {
  uuid: UUID,
  ownerPrefix: 'nova-',
  session: 'a0000000-0000-4000-8000-000000000001',
  since: '2026-01-02T03:04:05.000Z',
  mode: 'normal',
  name: 'plugged-1',
  flavor: { id: 'm1.small', name: 'm1.small', vcpus: 1, memoryMb: 512, rootGb: 1, ephemeralGb: 0, swapMb: 0, extraSpecs: {} },
  image: { id: 'guest.raw', diskFormat: 'raw', containerFormat: 'bare', diskBus: 'virtio', vifModel: 'virtio' },
  metadata: {},
  localDisks: [],
  volumes: [
    {
      id: 'aaaaaaaa-0000-4000-8000-000000000001',
      target: 'vdb',
      bus: 'virtio',
      source: 'block',
      path: '/dev/loop7',
      deleteOnTermination: false,
      connection: { driverVolumeType: 'file', path: '/srv/volumes/a "quoted" & <odd>.img' },
    },
  ],
  interfaces: [
    { id: '010b7c1e-2d3f-4e5a-9b6c-7d8e9f0a1b2c', mac: 'fa:16:3e:00:00:01', address: 'FA:16:3E:00:00:01', model: 'virtio', bridge: 'ncbr-a', mtu: 1450, plugged: 'tap010b7c1e2d3', vifType: 'bridge', networkId: 'net-1' },
    { id: '020b7c1e-2d3f-4e5a-9b6c-7d8e9f0a1b2c', mac: 'fa:16:3e:00:00:02', model: 'e1000', bridge: 'ncbr-a', plugged: 'tap_2.x-y', devname: 'tap_2.x-y', vifType: 'tap', networkId: 'net-1' },
    // A VIF without a bridge is not the plugin's: QEMU's user-mode NIC, as without a plugin.
    { id: '030b7c1e-2d3f-4e5a-9b6c-7d8e9f0a1b2c', mac: 'fa:16:3e:00:00:03', model: 'virtio' },
  ],
};

const testEnv: DomainEnvironment = { domainType: 'test', domainName: `nova-${UUID}-0a1b2c3d`, instanceDir: `/srv/nova/instances/${UUID}`, consoleLog: false };
const qemuEnv: DomainEnvironment = {
  domainType: 'qemu',
  domainName: `nova-${UUID}-0a1b2c3d`,
  instanceDir: `/srv/nova/instances/${UUID}`,
  consoleLog: true,
  cpu: defaultCpu('qemu'),
  caches: { file: diskCache('none'), block: diskCache('none') },
};

describe('plugged VIFs and connected volumes in the domain XML', () => {
  it('a plugged tap is an ethernet interface naming the tap, managed=no (hot-plug snippets)', () => {
    golden(
      'plug-interface-snippets',
      [
        interfaceXml(plugged.interfaces[0]!),
        interfaceXml(plugged.interfaces[1]!),
        // Escaped like every attribute, whatever reaches it.
        interfaceXml({ mac: 'FA:16:3E:00:00:09', model: 'vir"tio', plugged: 'tap<&>' }),
      ].join('\n') + '\n',
    );
  });

  it('the full domain on QEMU and on the test driver', () => {
    golden('qemu-plugged', buildDomainXml(plugged, qemuEnv));
    golden('test-plugged', buildDomainXml(plugged, testEnv));
  });

  it('the record keeps the tap, the VIF type and network, and the connection info, and reads back the same', () => {
    expect(parseDomainXml(buildDomainXml(plugged, qemuEnv)).record).toEqual(plugged);
    expect(parseInstanceMetadata(buildInstanceMetadata(plugged, '', true), UUID)).toEqual(plugged);
    const parsed = parseDomainXml(buildDomainXml(plugged, qemuEnv));
    expect(parsed.interfaces.map((i) => i.mac)).toEqual(['fa:16:3e:00:00:01', 'fa:16:3e:00:00:02', 'fa:16:3e:00:00:03']);
    expect(parsed.disks.find((d) => d.serial === 'aaaaaaaa-0000-4000-8000-000000000001')?.source).toBe('/dev/loop7');
  });

  it('an unreadable recorded connection info is dropped, not trusted', () => {
    const xml = buildInstanceMetadata(plugged, '', true).replace(/connection="[^"]*"/, 'connection="{&quot;driverVolumeType&quot;:&quot;file&quot;,&quot;path&quot;:&quot;relative&quot;}"');
    expect(parseInstanceMetadata(xml, UUID)!.volumes[0]!.connection).toBeUndefined();
  });
});

describe('plug errors as the operation reports them', () => {
  it('renames the plug\'s field to where the caller gave it and names the operation', () => {
    const err = new DriverError('INVALID_INPUT', { op: 'plug', target: 'x', issues: [{ path: ['vif', 'devname'], message: 'names the existing device' }] });
    const out = asOperationError(err, 'spawn', 'vif', ['spec', 'networkInfo', 1]) as DriverError;
    expect(out.code).toBe('INVALID_INPUT');
    expect(out.op).toBe('spawn');
    expect(out.issues).toEqual([{ path: ['spec', 'networkInfo', 1, 'devname'], message: 'names the existing device' }]);
    const conflict = asOperationError(new DriverError('CONFLICT', { op: 'plug' }), 'attachInterface', 'vif', ['vif']) as DriverError;
    expect([conflict.code, conflict.op]).toEqual(['CONFLICT', 'attachInterface']);
  });
});

describe('the plugs in the configuration', () => {
  it('takes a plug spec per plug and refuses a malformed one at construction, naming the field', () => {
    const parsed = LibvirtDriverConfigSchema.parse({
      vifPlugin: { use: '@nova-common/plugs#createLinuxBridgeTapPlugin' },
      volumeConnector: { use: '@nova-common/plugs#createLoopConnector', config: { roots: ['/srv/volumes'], stateDir: '/var/lib/nova-common/connector' } },
    });
    expect(parsed.vifPlugin).toEqual({ use: '@nova-common/plugs#createLinuxBridgeTapPlugin' });
    expect(parsed.volumeConnector?.config).toEqual({ roots: ['/srv/volumes'], stateDir: '/var/lib/nova-common/connector' });
    expect(LibvirtDriverConfigSchema.parse({}).vifPlugin).toBeUndefined();
    for (const [field, spec] of [
      ['vifPlugin', { use: 'a module; rm -rf /#create' }],
      ['volumeConnector', { use: '' }],
      ['vifPlugin', { use: 'x#create', extra: 1 }],
    ] as const) {
      let thrown: unknown;
      try {
        createLibvirtDriver({ [field]: spec });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toMatchObject({ code: 'INVALID_INPUT' });
      expect((thrown as DriverError).issues?.some((i) => i.path[0] === 'config' && i.path[1] === field)).toBe(true);
    }
  });
});
