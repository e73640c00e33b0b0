import { describe, expect, it } from 'vitest';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { encodePerform3ParamsArgs, MigrateFlags } from '../src/client/protocol/migrate-args.js';
import { readTypedParams, stringParam, uintParam, writeTypedParams } from '../src/client/protocol/typed-params.js';
import { XdrDecoder } from '../src/client/xdr/decoder.js';
import { XdrEncoder } from '../src/client/xdr/encoder.js';
import { LIVE_MIGRATION_FLAGS, liveMigrationParams } from '../src/driver/migration-live.js';
import { defaultMigrationUri, formatMigrationAddress, parseMigrationAddress, relocateXml } from '../src/mapping/migration-address.js';

describe('DOMAIN_MIGRATE_PERFORM3_PARAMS arguments (procedure 305)', () => {
  it('encodes domain, dconnuri, typed params, empty cookie and flags as remote_protocol.x lays them out (golden)', () => {
    const dom = LibvirtClient.ref('d', '00112233-4455-6677-8899-aabbccddeeff');
    const buf = encodePerform3ParamsArgs(dom, 'qemu:///b', [stringParam('migrate_uri', 'tcp://127.0.0.1')], MigrateFlags.LIVE | MigrateFlags.PEER2PEER);
    expect(buf.toString('hex')).toBe(
      [
        '00000001', '64000000', // name "d", padded
        '00112233445566778899aabbccddeeff', // uuid
        'ffffffff', // id -1
        '00000001', '00000009', '71656d753a2f2f2f62000000', // dconnuri present: "qemu:///b"
        '00000001', // one param
        '0000000b', '6d6967726174655f75726900', // "migrate_uri"
        '00000007', '0000000f', '7463703a2f2f3132372e302e302e3100', // STRING "tcp://127.0.0.1" (15 bytes, 1 pad)
        '00000000', // empty cookie
        '00000003', // LIVE|PEER2PEER
      ].join(''),
    );
  });

  it('typed params read back as written', () => {
    const e = new XdrEncoder();
    const params = [stringParam('listen_address', '127.0.0.1'), uintParam('bandwidth', 2)];
    writeTypedParams(e, params);
    expect(readTypedParams(new XdrDecoder(e.toBuffer()))).toEqual(params);
  });

  it('live migration parameters: migrate_uri without a port, the listen address, both XMLs, one migrate_disks per local disk', () => {
    const params = liveMigrationParams({ listen: '127.0.0.1' }, '<d/>', '<p/>', ['vda', 'vdb']);
    expect(params.map((p) => [p.field, p.value.value])).toEqual([
      ['migrate_uri', 'tcp://127.0.0.1'],
      ['listen_address', '127.0.0.1'],
      ['destination_xml', '<d/>'],
      ['persistent_xml', '<p/>'],
      ['migrate_disks', 'vda'],
      ['migrate_disks', 'vdb'],
    ]);
    expect(liveMigrationParams({ listen: '::1' }, '', '', [])[0]!.value.value).toBe('tcp://[::1]');
    expect(LIVE_MIGRATION_FLAGS).toBe(1 | 2 | 8 | 16 | 64);
  });
});

describe('migration address', () => {
  it('round-trips and defaults to the driver URI with its socket', () => {
    const a = { daemonUri: 'qemu+unix:///system?socket=/run/x/sock', socketPath: '/run/x/sock', openUri: 'qemu:///system', instancesDir: '/var/lib/i', listen: '127.0.0.1' };
    expect(parseMigrationAddress(formatMigrationAddress(a))).toEqual(a);
    expect(defaultMigrationUri('qemu:///system', '/run/libvirt/libvirt-sock')).toBe('qemu:///system');
    expect(defaultMigrationUri('qemu:///system', '/run/b/sock')).toBe('qemu+unix:///system?socket=/run/b/sock');
  });

  it('refuses what a libvirt destination never answers', () => {
    expect(parseMigrationAddress('qemu:///system')).toBeUndefined();
    expect(parseMigrationAddress('qemu:///system#socket=rel&open=qemu:///system&instances=/i&listen=127.0.0.1')).toBeUndefined();
    expect(parseMigrationAddress('qemu:///system#socket=/s&open=qemu:///system&instances=/i/../etc&listen=127.0.0.1')).toBeUndefined();
  });

  it('relocates the instance directory in a domain XML, nothing else', () => {
    const xml = "<source file='/a/u/disk'/><log file='/a/u/console.log'/><source file='/vol/a/u/x'/>";
    expect(relocateXml(xml, '/a/u', '/b/u')).toBe("<source file='/b/u/disk'/><log file='/b/u/console.log'/><source file='/vol/a/u/x'/>");
  });
});
