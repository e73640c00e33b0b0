/**
 * Golden tests: what the driver sends Ironic for a spawn (the reservation PATCH, one operation
 * per instance_info key the driver owns, with Nova's fields, the image details and our ownership
 * record), the release and restore PATCHes, the rebuild PATCH and the config drive. The expected
 * files are reviewed by hand; regenerate them with UPDATE_GOLDENS=1 only after checking the
 * difference.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InstanceSpecSchema } from '@nova-common/core';
import { DRIVER_KEYS, ownerRecordOf, rebuildPatch, releasePatch, reservePatch, restorePatch } from '../../src/mapping/instance-info.js';
import { buildConfigDrive, configDriveOfRecord, hostnameOf, type ConfigDriveOptions } from '../../src/mapping/configdrive.js';
import type { ImageDetails } from '../../src/mapping/image-source.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const spec = InstanceSpecSchema.parse(JSON.parse(readFileSync(fixture('spawn-full.spec.json'), 'utf8')));
const options = { hostId: 'host-a', imageSourceTemplate: 'file:///var/lib/ironic/images/{id}.img' };
const details: ImageDetails = { image_os_hash_algo: 'sha256', image_os_hash_value: 'ab'.repeat(32), image_type: 'whole-disk' };
/** A deterministic seed: bytes 0, 1, 2, ... (production uses crypto.randomBytes). */
const drive: ConfigDriveOptions = { availabilityZone: 'az-1', projectId: 'proj-7', dhcpDomain: 'novalocal', random: (n) => Buffer.from(Array.from({ length: n }, (_, i) => i % 256)) };
/** Keys an operator set on the node before the deploy: two of its own, one the driver also writes. */
const operatorNode = { instance_info: { image_download_source: 'local', kernel_append_params: 'console=ttyS0', root_gb: '10', secret_token: '******' } };

function golden(name: string, actual: unknown): void {
  const path = fixture(name);
  const text = `${JSON.stringify(actual, null, 2)}\n`;
  if (process.env.UPDATE_GOLDENS === '1') writeFileSync(path, text);
  expect(text).toBe(readFileSync(path, 'utf8'));
}

/** Apply a JSON patch of add/remove operations under /instance_info (what Ironic does with it). */
function applyInfo(info: Record<string, unknown>, ops: { op: string; path: string; value?: unknown }[]): Record<string, unknown> {
  const out = { ...info };
  for (const o of ops) {
    if (!o.path.startsWith('/instance_info/')) continue;
    const key = o.path.slice('/instance_info/'.length).replace(/~1/g, '/').replace(/~0/g, '~');
    if (o.op === 'remove') delete out[key];
    else out[key] = o.value;
  }
  return out;
}

describe('goldens', () => {
  it('reservation PATCH: instance_uuid + one add per driver key (Nova fields, image details, traits, capabilities, record with the operator keys)', () => {
    const patch = reservePatch(spec, options, details, operatorNode);
    golden('spawn-full.reserve-patch.expected.json', patch);
    expect(patch.some((o) => o.path === '/instance_info')).toBe(false);
    for (const o of patch.slice(1)) expect(DRIVER_KEYS).toContain(o.path.slice('/instance_info/'.length));
  });

  it('release PATCH: removes only the driver keys, puts back the value of an operator key it overwrote', () => {
    const reserved = { instance_info: applyInfo(operatorNode.instance_info, reservePatch(spec, options, details, operatorNode)) };
    const patch = releasePatch(reserved);
    golden('spawn-full.release-patch.expected.json', patch);
    expect(applyInfo(reserved.instance_info, patch)).toEqual(operatorNode.instance_info);
  });

  it('restore PATCH after a teardown: the operator keys Ironic cleared (not its masked ones), none the node has again', () => {
    const rec = ownerRecordOf(spec, 'host-a', { image_download_source: 'local', root_gb: '10' });
    golden('spawn-full.restore-patch.expected.json', restorePatch(rec.operatorInfo, { instance_info: { root_gb: '20' } }));
    expect(restorePatch(rec.operatorInfo, { instance_info: {} }).map((o) => o.path)).toEqual(['/instance_info/image_download_source', '/instance_info/root_gb']);
  });

  it('config drive (JSON form): meta_data as Nova (random_seed, availability_zone, project_id, hostname with dhcp_domain), user_data, network_data', () => {
    const cd = buildConfigDrive(spec, drive);
    golden('spawn-full.configdrive.expected.json', cd);
    expect(Buffer.from(cd.meta_data.random_seed as string, 'base64')).toHaveLength(512);
  });

  it('config drive: a fresh 512-byte random seed on every build by default', () => {
    const { random: _, ...o } = drive;
    const a = buildConfigDrive(spec, o).meta_data.random_seed as string;
    const b = buildConfigDrive(spec, o).meta_data.random_seed as string;
    expect(Buffer.from(a, 'base64')).toHaveLength(512);
    expect(a).not.toBe(b);
  });

  it('config drive of a redeploy (rebuild, recovering a failed deploy): identity, metadata and links from the record', () => {
    golden('spawn-full.redeploy-configdrive.expected.json', configDriveOfRecord(spec.uuid, ownerRecordOf(spec, 'host-a'), drive));
  });

  it('rebuild PATCH: new image and its details (the old image kernel/ramdisk removed), metadata, record kept', () => {
    const image = { ...spec.image, id: 'debian-13' };
    const node = { instance_info: { kernel: 'http://h/k', ramdisk: 'http://h/r', image_type: 'partition', image_checksum: 'c' } };
    golden('spawn-full.rebuild-patch.expected.json', rebuildPatch(ownerRecordOf(spec, 'host-a'), image, { role: 'db' }, true, options, details, node));
  });

  it('host names as Nova 26.2 derives them (sanitize_hostname, Server-<uuid>): Latin-1 letters kept, others dropped', () => {
    const table = JSON.parse(readFileSync(fixture('nova-hostnames.expected.json'), 'utf8')) as { uuid: string; cases: { name: string; hostname: string }[] };
    expect(table.cases.length).toBeGreaterThan(10);
    for (const c of table.cases) expect([c.name, hostnameOf(c.name, table.uuid)]).toEqual([c.name, c.hostname]);
  });
});
