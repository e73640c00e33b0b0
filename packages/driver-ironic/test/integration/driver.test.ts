/**
 * The driver against a real Ironic (scripts/backends/ironic.sh start), behind core's guard as
 * every consumer uses it: contract behaviour that the conformance run does not pin to this
 * backend's specifics (node choice, ownership of nodes another party uses, cancellation,
 * Ironic's own view after each step, read through the raw driver's client).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriverCapabilitiesSchema, HostInventorySchema, InstanceInfoSchema, type GuardedDriver, type LifecycleEvent } from '@nova-common/core';
import type { IronicDriver } from '../../src/index.js';
import { guardedTestDriver, requireIronic } from '../helpers/ironic-env.js';
import { IMAGES, spec } from '../helpers/specs.js';

let raw: IronicDriver;
let driver: GuardedDriver;
const created = new Set<string>();
const events: LifecycleEvent[] = [];

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

async function spawnNew(over: Parameters<typeof spec>[0] extends infer T ? Partial<T> : never = {}) {
  const s = spec({ uuid: randomUUID(), ...over });
  created.add(s.uuid);
  await driver.spawn(s);
  return s;
}

beforeAll(async () => {
  await requireIronic('default');
  ({ raw, driver } = guardedTestDriver('default'));
  await driver.initHost();
  driver.subscribeEvents((e) => events.push(e));
});

afterAll(async () => {
  if (!driver) return;
  for (const uuid of created) await driver.destroy(uuid).catch(() => undefined);
  await driver.cleanupHost();
});

describe('host', () => {
  it('negotiates a microversion and declares its capabilities', async () => {
    expect(raw.client.version).toMatch(/^1\.\d+$/);
    const caps = DriverCapabilitiesSchema.parse(await driver.getCapabilities());
    expect(caps.multiNode).toBe(true);
    expect(caps.capabilities['operation.pause']!.level).toBe('missing');
    expect(caps.capabilities['operation.suspend']!.level).toBe('missing');
    expect(caps.capabilities['operation.reboot']!.level).toBe('complete');
  });

  it('lists Ironic nodes as the host\'s nodes, each with one unit of its custom class and its traits', async () => {
    const nodes = await driver.listNodes();
    expect(nodes.length).toBeGreaterThanOrEqual(3);
    const inv = HostInventorySchema.parse(await driver.getInventory());
    expect(inv.nodes.map((n) => n.node).sort()).toEqual(nodes.map((n) => n.id).sort());
    for (const n of inv.nodes) expect(n.resources.CUSTOM_BAREMETAL?.total).toBe(1);
    expect(inv.nodes.some((n) => n.traits.includes('CUSTOM_NC_GOLD'))).toBe(true);
  });
});

describe('unknown instances answer like every other driver', () => {
  const ghost = randomUUID();
  it.each([
    ['getInfo', () => driver.getInfo(ghost)],
    ['powerOff', () => driver.powerOff(ghost)],
    ['powerOn', () => driver.powerOn(ghost)],
    ['reboot', () => driver.reboot(ghost, 'HARD')],
    ['rescue', () => driver.rescue(ghost, {})],
    ['unrescue', () => driver.unrescue(ghost)],
    ['rebuild', () => driver.rebuild(ghost, { image: IMAGES[1] as never, preserveEphemeral: false })],
    ['attachInterface', () => driver.attachInterface(ghost, { id: randomUUID(), address: 'fa:16:3e:00:00:09', network: { id: 'n', subnets: [] } } as never)],
    ['detachInterface', () => driver.detachInterface(ghost, randomUUID())],
    ['getConsoleOutput', () => driver.getConsoleOutput(ghost)],
  ])('%s -> INSTANCE_NOT_FOUND', async (_name, call) => {
    expect(await code(call())).toBe('INSTANCE_NOT_FOUND');
  });

  it('destroy of an unknown uuid succeeds', async () => {
    expect(await code(driver.destroy(ghost))).toBe('OK');
  });

  it('a malformed uuid is INVALID_INPUT (the guard refuses it before the driver sees it)', async () => {
    const requests = raw.stats.requests;
    expect(await code(driver.getInfo('not-a-uuid'))).toBe('INVALID_INPUT');
    expect(raw.stats.requests).toBe(requests);
  });
});

describe('lifecycle through Ironic', () => {
  it('spawns like Nova: reserved node, instance_info, VIFs, config drive, active and powered on', async () => {
    const vif = { id: randomUUID(), address: 'fa:16:3e:aa:bb:01', network: { id: 'net-a', subnets: [{ cidr: '10.1.0.0/24', ips: [{ address: '10.1.0.7' }] }] } };
    const s = await spawnNew({ name: 'lifecycle ✓ <1>', metadata: { k: 'v' }, networkInfo: [vif] as never });
    const info = InstanceInfoSchema.parse(await driver.getInfo(s.uuid));
    expect(info).toMatchObject({ uuid: s.uuid, name: 'lifecycle ✓ <1>', powerState: 'RUNNING', mode: 'normal', metadata: { k: 'v' } });
    expect(info.interfaces).toEqual([{ id: vif.id, address: vif.address }]);
    const node = await raw.client.nodes.get(info.node, ['provision_state', 'power_state', 'instance_uuid', 'instance_info']);
    expect(node).toMatchObject({ provision_state: 'active', power_state: 'power on', instance_uuid: s.uuid });
    expect(node.instance_info).toMatchObject({ display_name: 'lifecycle ✓ <1>', image_source: expect.stringContaining('nc-image-1'), configdrive: expect.anything() });
    expect((await driver.listInstances()).map((i) => i.uuid)).toContain(s.uuid);
    const n = (await driver.listNodes()).find((x) => x.id === info.node)!;
    expect(n).toMatchObject({ available: false, unavailableReason: 'in-use', instanceUuid: s.uuid });
    const inv = await driver.getInventory();
    expect(inv.nodes.find((x) => x.node === info.node)!.resources.CUSTOM_BAREMETAL).toMatchObject({ used: 1, reserved: 0 });
    expect(events.filter((e) => e.uuid === s.uuid).map((e) => e.kind)).toEqual(['STARTED']);
    expect(await code(driver.spawn(spec({ uuid: s.uuid })))).toBe('INSTANCE_EXISTS');
    // One instance whatever the letter case of its uuid.
    expect((await driver.getInfo(s.uuid.toUpperCase())).uuid).toBe(s.uuid);
    expect(await code(driver.spawn(spec({ uuid: s.uuid.toUpperCase() })))).toBe('INSTANCE_EXISTS');
  });

  it('follows the semantics table for power, reboot, rescue and rebuild', async () => {
    const s = await spawnNew({ powerOn: false });
    const state = async () => {
      const i = await driver.getInfo(s.uuid);
      return i.mode === 'rescue' && i.powerState === 'RUNNING' ? 'RESCUE' : i.powerState;
    };
    expect(await state()).toBe('SHUTDOWN');
    expect(await code(driver.powerOff(s.uuid))).toBe('OK'); // no-op
    expect(await state()).toBe('SHUTDOWN');
    await driver.reboot(s.uuid, 'SOFT'); // from SHUTDOWN -> RUNNING
    expect(await state()).toBe('RUNNING');
    expect(await code(driver.powerOn(s.uuid))).toBe('OK'); // no-op
    await driver.reboot(s.uuid, 'HARD');
    expect(await state()).toBe('RUNNING');
    await driver.powerOff(s.uuid, { gracefulTimeoutMs: 2000 });
    expect(await state()).toBe('SHUTDOWN');
    await driver.rescue(s.uuid, { adminPassword: 'rescue-me' }); // from SHUTDOWN -> RESCUE (running)
    expect(await state()).toBe('RESCUE');
    expect(await code(driver.rescue(s.uuid, {}))).toBe('OK'); // no-op
    expect(await code(driver.powerOff(s.uuid))).toBe('INVALID_STATE');
    expect(await code(driver.reboot(s.uuid, 'HARD'))).toBe('INVALID_STATE');
    expect(await code(driver.rebuild(s.uuid, { image: IMAGES[1] as never, preserveEphemeral: false }))).toBe('INVALID_STATE');
    await driver.unrescue(s.uuid);
    expect(await state()).toBe('RUNNING');
    expect(await code(driver.unrescue(s.uuid))).toBe('OK'); // no-op on RUNNING
    await driver.powerOff(s.uuid);
    await driver.rebuild(s.uuid, { image: IMAGES[1] as never, metadata: { rebuilt: 'yes' }, preserveEphemeral: false }); // SHUTDOWN stays SHUTDOWN (1.1)
    const info = await driver.getInfo(s.uuid);
    expect(info).toMatchObject({ powerState: 'SHUTDOWN', mode: 'normal', metadata: { rebuilt: 'yes' } });
    const node = await raw.client.nodes.get(info.node, ['instance_info']);
    expect(node.instance_info?.image_source).toContain('nc-image-2');
    const mine = events.filter((e) => e.uuid === s.uuid);
    expect(mine.map((e) => e.kind)).toEqual(['STARTED', 'STOPPED', 'STARTED', 'STOPPED']);
    expect(mine.every((e) => e.cause === 'requested')).toBe(true);
    expect((await driver.getConsoleOutput(s.uuid)).output).toContain(info.node);
  });

  it('attaches and detaches interfaces through Ironic\'s VIF API and reports them', async () => {
    const s = await spawnNew();
    const vif = { id: randomUUID(), address: 'fa:16:3e:aa:bb:02', network: { id: 'net-b', subnets: [] } } as never;
    await driver.attachInterface(s.uuid, vif);
    expect((await driver.getInfo(s.uuid)).interfaces.map((i) => i.id)).toEqual([(vif as { id: string }).id]);
    expect(await code(driver.attachInterface(s.uuid, vif))).toBe('INTERFACE_ALREADY_ATTACHED');
    await driver.detachInterface(s.uuid, (vif as { id: string }).id);
    expect((await driver.getInfo(s.uuid)).interfaces).toEqual([]);
    expect(await code(driver.detachInterface(s.uuid, (vif as { id: string }).id))).toBe('INTERFACE_NOT_ATTACHED');
  });

  it('destroy tears the node down, is idempotent, and the node is available again within the declared bound', async () => {
    const s = await spawnNew();
    const { node } = await driver.getInfo(s.uuid);
    await driver.destroy(s.uuid);
    created.delete(s.uuid);
    expect(await code(driver.getInfo(s.uuid))).toBe('INSTANCE_NOT_FOUND');
    const ironicNode = await raw.client.nodes.get(node, ['instance_uuid', 'power_state']);
    expect(ironicNode.instance_uuid).toBeNull();
    expect(ironicNode.power_state).toBe('power off');
    const inv = await driver.getInventory();
    expect(inv.nodes.find((x) => x.node === node)!.resources.CUSTOM_BAREMETAL!.used).toBe(0);
    const bound = (await driver.getCapabilities()).eventualConsistency.nodeAvailableMs;
    const deadline = Date.now() + bound;
    let available = false;
    while (!available && Date.now() < deadline) {
      available = (await driver.listNodes()).find((n) => n.id === node)!.available;
      if (!available) await new Promise((r) => setTimeout(r, 50));
    }
    expect(available).toBe(true);
    expect(await code(driver.destroy(s.uuid))).toBe('OK');
  });
});

describe('node choice', () => {
  it('deploys on the requested node (uuid or name), and refuses busy or unknown nodes', async () => {
    const free = (await driver.listNodes()).filter((n) => n.available);
    const target = free[0]!.id;
    const s = await spawnNew({ node: target });
    expect((await driver.getInfo(s.uuid)).node).toBe(target);
    const other = randomUUID();
    expect(await code(driver.spawn(spec({ uuid: other, node: target })))).toBe('NODE_UNAVAILABLE');
    expect(await code(driver.spawn(spec({ uuid: other, node: 'no-such-node' })))).toBe('NODE_NOT_FOUND');
    expect(await code(driver.getInfo(other))).toBe('INSTANCE_NOT_FOUND');
  });

  it('refuses a flavor whose custom class no node has, leaving nothing', async () => {
    const uuid = randomUUID();
    const s = spec({ uuid, flavor: { id: 'x', name: 'x', vcpus: 1, memoryMb: 1, rootGb: 1, extraSpecs: { 'resources:CUSTOM_GPU_NODE': '1' } } });
    expect(await code(driver.spawn(s))).toBe('INSUFFICIENT_RESOURCES');
    expect(await code(driver.getInfo(uuid))).toBe('INSTANCE_NOT_FOUND');
  });

  it('refuses binary user data with INVALID_INPUT on userData', async () => {
    const s = spec({ uuid: randomUUID(), userData: Buffer.from([0xff, 0x00, 0xfe]).toString('base64') });
    const err = await driver.spawn(s).catch((e: unknown) => e as { code: string; issues: { path: string[] }[] });
    expect(err).toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: ['userData'] }] });
  });
});

describe('ownership', () => {
  it('never reports or touches a node someone else deployed', async () => {
    const free = (await driver.listNodes()).filter((n) => n.available);
    const nodeId = free[free.length - 1]!.id;
    const foreign = randomUUID();
    await raw.client.nodes.patch(nodeId, [{ op: 'add', path: '/instance_uuid', value: foreign }]);
    try {
      expect(await code(driver.getInfo(foreign))).toBe('INSTANCE_NOT_FOUND');
      expect(await code(driver.destroy(foreign))).toBe('OK');
      expect((await raw.client.nodes.get(nodeId, ['instance_uuid'])).instance_uuid).toBe(foreign);
      expect((await driver.listInstances()).map((i) => i.uuid)).not.toContain(foreign);
      const n = (await driver.listNodes()).find((x) => x.id === nodeId)!;
      expect(n).toEqual({ id: nodeId, available: false, unavailableReason: 'in-use' });
      const inv = await driver.getInventory();
      expect(inv.nodes.find((x) => x.node === nodeId)!.resources.CUSTOM_BAREMETAL).toMatchObject({ used: 0, reserved: 1 });
    } finally {
      await raw.client.nodes.patch(nodeId, [{ op: 'remove', path: '/instance_uuid' }]);
    }
  });

  it('another host (a different hostId) does not see or destroy our instances', async () => {
    const s = await spawnNew();
    const { driver: other } = guardedTestDriver('default', { hostId: 'some-other-host' });
    await other.initHost();
    try {
      expect(await code(other.getInfo(s.uuid))).toBe('INSTANCE_NOT_FOUND');
      expect(await code(other.destroy(s.uuid))).toBe('OK');
      expect((await other.listInstances()).map((i) => i.uuid)).not.toContain(s.uuid);
      expect((await driver.getInfo(s.uuid)).powerState).toBe('RUNNING');
    } finally {
      await other.cleanupHost();
    }
  });
});

describe('cancellation', () => {
  it('an aborted spawn rejects with CANCELLED and leaves nothing behind', async () => {
    const s = spec({ uuid: randomUUID() });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    const result = await code(driver.spawn(s, { signal: ac.signal }));
    if (result === 'OK') {
      // The deploy finished before the abort: a legitimate outcome; clean it up.
      created.add(s.uuid);
    } else {
      expect(result).toBe('CANCELLED');
      expect(await code(driver.getInfo(s.uuid))).toBe('INSTANCE_NOT_FOUND');
      const nodes = await raw.client.nodes.list({ fields: ['instance_uuid'], query: { instance_uuid: s.uuid } });
      expect(nodes).toEqual([]);
    }
  });
});
