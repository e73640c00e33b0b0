/**
 * Golden tests: what the driver sends Ironic for a spawn (the reservation PATCH with Nova's
 * instance_info fields and our ownership record) and the config drive. The expected files are
 * reviewed by hand; regenerate them with UPDATE_GOLDENS=1 only after checking the difference.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InstanceSpecSchema } from '@nova-common/core';
import { reservePatch, rebuildPatch, ownerRecordOf } from '../../src/mapping/instance-info.js';
import { buildConfigDrive, configDriveOfRecord } from '../../src/mapping/configdrive.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const spec = InstanceSpecSchema.parse(JSON.parse(readFileSync(fixture('spawn-full.spec.json'), 'utf8')));
const options = { hostId: 'host-a', imageSourceTemplate: 'file:///var/lib/ironic/images/{id}.img' };

function golden(name: string, actual: unknown): void {
  const path = fixture(name);
  const text = `${JSON.stringify(actual, null, 2)}\n`;
  if (process.env.UPDATE_GOLDENS === '1') writeFileSync(path, text);
  expect(text).toBe(readFileSync(path, 'utf8'));
}

describe('goldens', () => {
  it('reservation PATCH: instance_uuid + instance_info (Nova fields, traits, capabilities, record)', () => {
    golden('spawn-full.reserve-patch.expected.json', reservePatch(spec, options));
  });

  it('config drive (JSON form): meta_data, user_data, network_data', () => {
    golden('spawn-full.configdrive.expected.json', buildConfigDrive(spec));
  });

  it('config drive of a redeploy (rebuild, recovering a failed deploy): identity, metadata and links from the record', () => {
    golden('spawn-full.redeploy-configdrive.expected.json', configDriveOfRecord(spec.uuid, ownerRecordOf(spec, 'host-a')));
  });

  it('rebuild PATCH: new image and metadata, record kept', () => {
    const image = { ...spec.image, id: 'debian-13' };
    golden('spawn-full.rebuild-patch.expected.json', rebuildPatch(ownerRecordOf(spec, 'host-a'), image, { role: 'db' }, true, options));
  });
});
