/**
 * What the driver writes into a node's instance_info, on the real Ironic (scripts/backends/ironic.sh
 * start): only its own keys, one JSON-patch operation each, so keys an operator set on the node
 * before the deploy are still there after spawn, after a release of a node never deployed, and
 * after destroy (Ironic clears instance_info at teardown; the driver writes them back once the
 * node is clean). The image details this Ironic release needs for a file:// source (checksum,
 * image type) are checked with Ironic's own code (python3-ironic) on what the node holds.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GuardedDriver } from '@nova-common/core';
import type { IronicDriver } from '../../src/index.js';
import type { IronicNode } from '../../src/client/types.js';
import { DRIVER_KEYS, releasePatch, reservePatch } from '../../src/mapping/instance-info.js';
import { guardedTestDriver, requireIronic } from '../helpers/ironic-env.js';
import { code, ironicApi, until } from '../helpers/backend.js';
import { IMAGES, IMAGE_SOURCE_TEMPLATE, spec } from '../helpers/specs.js';

let raw: IronicDriver;
let driver: GuardedDriver;
const created = new Set<string>();
const touched = new Set<string>();
/** Operator keys set on the test node before each deploy; root_gb is one the driver overwrites. */
const OPERATOR_KEYS = { image_download_source: 'local', kernel_append_params: 'console=ttyS0 nc-operator', root_gb: '7' };

beforeAll(async () => {
  await requireIronic('default');
  ({ raw, driver } = guardedTestDriver('default'));
  await driver.initHost();
});

afterAll(async () => {
  if (!driver) return;
  for (const uuid of created) await driver.destroy(uuid).catch(() => undefined);
  // The pool is shared with the other tests: take the operator keys off again.
  for (const uuid of touched) {
    const now = await info(uuid).catch(() => ({}));
    const ops = Object.keys(OPERATOR_KEYS).filter((k) => k in now).map((k) => ({ op: 'remove', path: `/instance_info/${k}` }));
    if (ops.length > 0) await ironicApi(raw, 'PATCH', `/v1/nodes/${uuid}`, ops).catch(() => undefined);
  }
  await driver.cleanupHost();
});

async function info(nodeUuid: string): Promise<Record<string, unknown>> {
  return (await raw.client.nodes.get(nodeUuid, ['instance_info'])).instance_info ?? {};
}

/** A free, available node of the test pool, with the operator keys set on it through Ironic's API. */
async function nodeWithOperatorKeys(): Promise<IronicNode> {
  const nodes = await raw.client.nodes.list({
    fields: ['uuid', 'provision_state', 'target_provision_state', 'instance_uuid', 'maintenance', 'power_state'],
    query: { resource_class: 'baremetal', associated: false, maintenance: false, provision_state: 'available' },
  });
  const node = nodes.find((n) => !n.target_provision_state && n.power_state);
  if (!node) throw new Error('no available node in the test Ironic');
  touched.add(node.uuid);
  const ops = Object.entries(OPERATOR_KEYS).map(([k, value]) => ({ op: 'add', path: `/instance_info/${k}`, value }));
  expect(await ironicApi(raw, 'PATCH', `/v1/nodes/${node.uuid}`, ops)).toBe(200);
  expect(await info(node.uuid)).toEqual(OPERATOR_KEYS);
  return node;
}

/** The checksum and image type of instance_info as Ironic 21.4's own code reads them. */
function ironicReads(instanceInfo: Record<string, unknown>): { checksum: string; algo: string; wholeDisk: boolean } {
  const script = [
    'import json, sys',
    'from ironic.common import checksum_utils, images',
    'ii = json.load(sys.stdin)',
    'checksum, algo = checksum_utils.get_checksum_and_algo(ii)',
    'print(json.dumps({"checksum": checksum, "algo": algo, "wholeDisk": images.is_whole_disk_image(None, ii)}))',
  ].join('\n');
  const out = execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(instanceInfo), encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as { checksum: string; algo: string; wholeDisk: boolean };
}

describe('instance_info on the real Ironic', () => {
  it('spawn adds its keys next to the operator keys; destroy leaves the operator keys (written back after cleaning), none of its own', async () => {
    const node = await nodeWithOperatorKeys();
    const s = spec({ uuid: randomUUID(), node: node.uuid });
    created.add(s.uuid);
    await driver.spawn(s);

    const deployed = await info(node.uuid);
    expect(deployed.image_download_source).toBe(OPERATOR_KEYS.image_download_source);
    expect(deployed.kernel_append_params).toBe(OPERATOR_KEYS.kernel_append_params);
    expect(deployed.root_gb).toBe('100'); // the flavor's, over the operator's 7 while the instance lives
    expect(deployed.image_source).toBe(IMAGE_SOURCE_TEMPLATE.replace('{id}', IMAGES[0]!.id));
    const file = IMAGE_SOURCE_TEMPLATE.replace('file://', '').replace('{id}', IMAGES[0]!.id);
    const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
    expect(deployed).toMatchObject({ image_os_hash_algo: 'sha256', image_os_hash_value: sha256, image_type: 'whole-disk' });
    expect(ironicReads(deployed)).toEqual({ checksum: sha256, algo: 'sha256', wholeDisk: true });
    expect((deployed.nova_common as { operatorInfo: unknown }).operatorInfo).toEqual(OPERATOR_KEYS);

    await driver.destroy(s.uuid);
    created.delete(s.uuid);
    let after: Record<string, unknown> = {};
    await until('operator keys back on the cleaned node', 30_000, async () => {
      after = await info(node.uuid);
      return 'image_download_source' in after;
    });
    expect(after).toEqual(OPERATOR_KEYS);
    for (const key of DRIVER_KEYS) if (!(key in OPERATOR_KEYS)) expect(after).not.toHaveProperty(key);
  });

  it('releasing a node never deployed removes only the driver keys and gives an overwritten operator key its value back', async () => {
    const node = await nodeWithOperatorKeys();
    const s = spec({ uuid: randomUUID(), node: node.uuid });
    const details = { image_os_hash_algo: 'sha256', image_os_hash_value: '0'.repeat(64), image_type: 'whole-disk' };
    const reserved = await raw.client.nodes.patch(node.uuid, reservePatch(s, raw.config, details, { instance_info: OPERATOR_KEYS }));
    try {
      expect(reserved.instance_uuid).toBe(s.uuid);
      expect(reserved.instance_info).toMatchObject({ ...OPERATOR_KEYS, root_gb: '100', image_type: 'whole-disk' });
    } finally {
      const released = await raw.client.nodes.patch(node.uuid, releasePatch(reserved));
      expect(released.instance_uuid ?? null).toBeNull();
      expect(released.instance_info).toEqual(OPERATOR_KEYS);
    }
  });

  it('refuses at the wall, before any request: a partition image without kernel/ramdisk, an http image without checksum', async () => {
    const partition = { ...IMAGES[0]!, diskFormat: 'ami' as const, containerFormat: 'ami' as const };
    const err = await driver.spawn(spec({ uuid: randomUUID(), image: partition })).then(
      () => undefined,
      (e: unknown) => e as { code: string; issues?: { path: (string | number)[] }[] },
    );
    expect(err?.code).toBe('INVALID_INPUT');
    expect(err?.issues?.map((i) => i.path.join('.'))).toEqual([`config.images.${IMAGES[0]!.id}.kernel`]);

    const { raw: httpRaw, driver: httpDriver } = guardedTestDriver('default', { imageSourceTemplate: 'http://127.0.0.1:9/{id}.img' });
    await httpDriver.initHost();
    try {
      const uuid = randomUUID();
      expect(await code(httpDriver.spawn(spec({ uuid })))).toBe('INVALID_INPUT');
      expect(await httpRaw.client.nodes.list({ fields: ['instance_uuid'], query: { instance_uuid: uuid } })).toEqual([]);
    } finally {
      await httpDriver.cleanupHost();
    }
  });
});
