/**
 * The failure path against a second Ironic configured so that every deploy fails
 * (`ironic.sh start failing`: config drives go to an object store that does not exist).
 * Spawn must reject with NODE_UNAVAILABLE, release the node (torn down, instance_uuid
 * cleared, back to available) and leave nothing behind.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GuardedDriver } from '@nova-common/core';
import type { IronicDriver } from '../../src/index.js';
import { guardedTestDriver, requireIronic } from '../helpers/ironic-env.js';
import { spec } from '../helpers/specs.js';

let raw: IronicDriver;
let driver: GuardedDriver;

beforeAll(async () => {
  await requireIronic('failing');
  ({ raw, driver } = guardedTestDriver('failing'));
  await driver.initHost();
});

afterAll(async () => {
  await driver?.cleanupHost();
});

async function untilAvailable(nodeId: string, boundMs: number): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const n = (await driver.listNodes()).find((x) => x.id === nodeId);
    if (n?.available) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a deploy that fails on the backend', () => {
  it('rejects spawn with NODE_UNAVAILABLE carrying Ironic\'s error, and releases the node', async () => {
    const target = (await driver.listNodes()).find((n) => n.available)!.id;
    const s = spec({
      uuid: randomUUID(),
      node: target,
      networkInfo: [{ id: randomUUID(), address: 'fa:16:3e:00:10:01', network: { id: 'net' } }] as never,
    });
    const err = (await driver.spawn(s).catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.code).toBe('NODE_UNAVAILABLE');
    expect(err.message).toMatch(/deploying failed/);
    expect(err.message).toMatch(/node released/);

    // Nothing left: no instance, no reservation, and the node back in the pool.
    await expect(driver.getInfo(s.uuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
    expect((await driver.listInstances()).map((i) => i.uuid)).not.toContain(s.uuid);
    const ironicNode = await raw.client.nodes.get(target, ['instance_uuid', 'instance_info', 'provision_state', 'power_state']);
    expect(ironicNode.instance_uuid).toBeNull();
    expect(ironicNode.instance_info).toEqual({});
    expect(ironicNode.power_state).toBe('power off');
    const bound = (await driver.getCapabilities()).eventualConsistency.nodeAvailableMs;
    expect(await untilAvailable(target, bound)).toBe(true);
    const inv = await driver.getInventory();
    expect(inv.nodes.find((n) => n.node === target)!.resources.CUSTOM_BAREMETAL).toMatchObject({ used: 0, reserved: 0 });
  });

  it('a node picked by the driver is released the same way, and the pool is whole afterwards', async () => {
    const before = (await driver.listNodes()).filter((n) => n.available).length;
    const s = spec({ uuid: randomUUID() });
    await expect(driver.spawn(s)).rejects.toMatchObject({ code: 'NODE_UNAVAILABLE' });
    const nodes = await raw.client.nodes.list({ fields: ['instance_uuid'], query: { instance_uuid: s.uuid } });
    expect(nodes).toEqual([]);
    const deadline = Date.now() + (await driver.getCapabilities()).eventualConsistency.nodeAvailableMs;
    let after = 0;
    while (Date.now() < deadline) {
      after = (await driver.listNodes()).filter((n) => n.available).length;
      if (after >= before) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(after).toBe(before);
  });
});
