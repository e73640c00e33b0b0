/**
 * Free nodes Ironic left failed, on the real Ironic, and ids at the driver's border.
 *
 * A destroy cut short by an Ironic restart while the node was cleaning leaves it `clean failed`
 * (target available) with the instance gone: Ironic fails the cleaning it cannot resume when it
 * starts again. The test writes exactly that state into the test Ironic's database (the API has no
 * way to set it; `ironic.sh lose-power-state` writes the database the same way), then checks that
 * a driver's initHost brings the node back and a spawn can use it. A manual cleaning that fails
 * (an operator's, target manageable), made through the API, is left alone and reported unavailable.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GuardedDriver } from '@nova-common/core';
import type { IronicNode } from '../../src/client/types.js';
import type { IronicDriver } from '../../src/index.js';
import { guardedTestDriver, requireIronic } from '../helpers/ironic-env.js';
import { IMAGES, spec } from '../helpers/specs.js';
import { code, ironicApi, until } from '../helpers/backend.js';

/** The default test Ironic's database (scripts/backends/ironic.sh keeps each variant under /tmp/nova-common/ironic/<variant>/). */
const DATABASE = '/tmp/nova-common/ironic/default/ironic.sqlite';

let raw: IronicDriver;
let driver: GuardedDriver;
const created = new Set<string>();
/** Nodes a test broke: put back into the pool afterwards, whatever happened. */
const broken = new Set<string>();

beforeAll(async () => {
  await requireIronic('default');
  ({ raw, driver } = guardedTestDriver('default'));
  await driver.initHost();
});

afterAll(async () => {
  if (!driver) return;
  for (const uuid of created) await driver.destroy(uuid).catch(() => undefined);
  for (const node of broken) await backToPool(node).catch(() => undefined);
  await driver.cleanupHost();
});

const get = (uuid: string): Promise<IronicNode> => raw.client.nodes.get(uuid, ['provision_state', 'target_provision_state', 'instance_uuid', 'maintenance', 'last_error']);

async function freeNode(): Promise<string> {
  const nodes = await raw.client.nodes.list({ fields: ['uuid'], query: { resource_class: 'baremetal', provision_state: 'available', associated: false, maintenance: false } });
  const node = nodes.find((n) => !broken.has(n.uuid));
  if (!node) throw new Error('no available test node');
  return node.uuid;
}

/** What Ironic's start leaves on a node whose cleaning it cannot resume. */
function failCleaningInDatabase(node: string): Promise<void> {
  const script = [
    'import sqlite3, sys',
    'con = sqlite3.connect(sys.argv[1], timeout=20)',
    'with con:',
    "    n = con.execute(\"UPDATE nodes SET provision_state = 'clean failed', target_provision_state = 'available', instance_uuid = NULL, last_error = 'The cleaning state cannot be resumed by conductor. Moving to fail state.' WHERE uuid = ?\", (sys.argv[2],)).rowcount",
    "sys.exit(0 if n == 1 else 'no such node')",
  ].join('\n');
  return new Promise((ok, fail) =>
    execFile('/usr/bin/python3', ['-c', script, DATABASE, node], { timeout: 30_000 }, (e, _out, err) => (e ? fail(new Error(`${e.message}\n${err}`)) : ok())),
  );
}

async function backToPool(node: string): Promise<void> {
  const n = await get(node);
  if (n.provision_state === 'clean failed' || n.provision_state === 'inspect failed') await ironicApi(raw, 'PUT', `/v1/nodes/${node}/states/provision`, { target: 'manage' });
  if ((await get(node)).provision_state === 'manageable') await ironicApi(raw, 'PUT', `/v1/nodes/${node}/states/provision`, { target: 'provide' });
  await until(`node ${node} available`, 30_000, async () => (await get(node)).provision_state === 'available');
  broken.delete(node);
}

const listed = async (d: GuardedDriver, node: string) => (await d.listNodes()).find((n) => n.id === node);

describe('recovering a node Ironic left `clean failed`', () => {
  it('initHost brings back a node whose cleaning failed after a teardown, and a spawn deploys on it', async () => {
    const node = await freeNode();
    broken.add(node);
    await failCleaningInDatabase(node);
    expect(await get(node)).toMatchObject({ provision_state: 'clean failed', target_provision_state: 'available' });
    // A driver that does not look again reports it unavailable.
    expect(await listed(driver, node)).toEqual({ id: node, available: false, unavailableReason: 'error' });

    const restarted = guardedTestDriver('default');
    try {
      await restarted.driver.initHost();
      await until(`node ${node} available again`, raw.config.nodeAvailableMs, async () => (await listed(restarted.driver, node))?.available === true);
      broken.delete(node);
      const s = spec({ uuid: randomUUID(), node });
      created.add(s.uuid);
      await restarted.driver.spawn(s);
      expect(await restarted.driver.getInfo(s.uuid)).toMatchObject({ node, powerState: 'RUNNING' });
    } finally {
      await restarted.driver.cleanupHost();
    }
  });

  it('a spawn brings back a node that failed while the driver was running (it is cleaned, then usable)', async () => {
    const node = await freeNode();
    broken.add(node);
    await failCleaningInDatabase(node);
    // The spawn names the failed node: it starts the recovery and reports the node unavailable while Ironic cleans it.
    const s = spec({ uuid: randomUUID(), node });
    created.add(s.uuid);
    expect(['NODE_UNAVAILABLE', 'OK']).toContain(await code(driver.spawn(s)));
    expect((await get(node)).provision_state).not.toBe('clean failed');
    await until(`node ${node} available again`, raw.config.nodeAvailableMs, async () => (await get(node)).provision_state === 'available' || (await get(node)).instance_uuid === s.uuid);
    broken.delete(node);
    if ((await get(node)).instance_uuid !== s.uuid) await driver.spawn(s);
    expect(await driver.getInfo(s.uuid)).toMatchObject({ node, powerState: 'RUNNING' });
  });

  it("an operator's manual cleaning that failed (target manageable) is left alone and reported unavailable", async () => {
    const node = await freeNode();
    broken.add(node);
    expect(await ironicApi(raw, 'PUT', `/v1/nodes/${node}/states/provision`, { target: 'manage' })).toBe(202);
    await until(`node ${node} manageable`, 30_000, async () => (await get(node)).provision_state === 'manageable');
    expect(await ironicApi(raw, 'PUT', `/v1/nodes/${node}/states/provision`, { target: 'clean', clean_steps: [{ interface: 'deploy', step: 'no_such_step' }] })).toBe(202);
    await until(`node ${node} clean failed`, 30_000, async () => (await get(node)).provision_state === 'clean failed');
    expect((await get(node)).target_provision_state).toBe('manageable');

    const restarted = guardedTestDriver('default');
    try {
      await restarted.driver.initHost();
      expect(await get(node)).toMatchObject({ provision_state: 'clean failed', target_provision_state: 'manageable' });
      expect(await listed(restarted.driver, node)).toEqual({ id: node, available: false, unavailableReason: 'error' });
      await expect(restarted.driver.spawn(spec({ uuid: randomUUID(), node }))).rejects.toMatchObject({ code: 'NODE_UNAVAILABLE' });
    } finally {
      await restarted.driver.cleanupHost();
    }
    await backToPool(node);
  });
});

describe('ids at the border, on the real Ironic', () => {
  it('a node id with a `/` (`%2F` in the path) is NODE_NOT_FOUND, where Ironic answers 500; an image id `../../etc/passwd` is INVALID_INPUT and reserves nothing', async () => {
    // What the driver's look-up of node `a/b` sends, and Ironic's answer to it.
    expect(await ironicApi(raw, 'GET', `/v1/nodes/${encodeURIComponent('a/b')}?fields=uuid`)).toBe(500);
    for (const node of ['a/b', 'a%2Fb', '..']) {
      await expect(driver.spawn(spec({ uuid: randomUUID(), node }))).rejects.toMatchObject({ code: 'NODE_NOT_FOUND', target: node });
    }

    const before = (await driver.listNodes()).filter((n) => n.available).length;
    const s = spec({ uuid: randomUUID(), image: { ...IMAGES[0]!, id: '../../etc/passwd' } });
    await expect(driver.spawn(s)).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: ['spec', 'image', 'id'] }] });
    expect(await code(driver.getInfo(s.uuid))).toBe('INSTANCE_NOT_FOUND');
    expect((await driver.listNodes()).filter((n) => n.available).length).toBe(before);
  });
});
