/**
 * CRASHED on the real Ironic (contract 1.1): the crash hook makes the node's deploy fail and
 * the machine stop, the driver reports CRASHED, and each operation of the CRASHED row does what
 * the table says by recovering the node first (Ironic deploys the instance again), or answers
 * CONFLICT when an operator's maintenance forbids the recovery.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendHooks, GuardedDriver } from '@nova-common/core';
import type { IronicDriver } from '../../src/index.js';
import { guardedTestDriver, requireIronic } from '../helpers/ironic-env.js';
import { IMAGES, spec } from '../helpers/specs.js';
import { backendHooks, code, ironicApi, row } from '../helpers/backend.js';

let raw: IronicDriver;
let driver: GuardedDriver;
let hooks: Required<BackendHooks>;
const created = new Set<string>();

beforeAll(async () => {
  await requireIronic('default');
  ({ raw, driver } = guardedTestDriver('default'));
  await driver.initHost();
  hooks = await backendHooks(raw);
});

afterAll(async () => {
  if (!driver) return;
  for (const uuid of created) await driver.destroy(uuid).catch(() => undefined);
  await driver.cleanupHost();
});

/** A new instance (running unless told otherwise), crashed through the hook. */
async function crashedInstance(powerOn = true): Promise<string> {
  const s = spec({ uuid: randomUUID(), powerOn });
  created.add(s.uuid);
  await driver.spawn(s);
  await hooks.crash(s.uuid);
  expect(await row(driver, s.uuid)).toBe('CRASHED');
  return s.uuid;
}

async function nodeOf(uuid: string) {
  const { node } = await driver.getInfo(uuid);
  return raw.client.nodes.get(node, ['provision_state', 'target_provision_state', 'power_state', 'instance_uuid', 'last_error', 'maintenance']);
}

async function forget(uuid: string): Promise<void> {
  await driver.destroy(uuid);
  created.delete(uuid);
}

describe('the crash hook', () => {
  it('makes the deploy fail and the machine stop: CRASHED, with the instance still on its node', async () => {
    for (const powerOn of [true, false]) {
      const uuid = await crashedInstance(powerOn);
      const node = await nodeOf(uuid);
      expect(node).toMatchObject({ provision_state: 'deploy failed', power_state: 'power off', instance_uuid: uuid });
      const info = await driver.getInfo(uuid);
      expect(info).toMatchObject({ uuid, powerState: 'CRASHED', mode: 'normal' });
      expect((await driver.listInstances()).map((i) => i.uuid)).toContain(uuid);
      expect((await driver.getConsoleOutput(uuid)).output).toContain(info.node);
      await forget(uuid);
    }
  });

  it('destroying an instance whose power Ironic lost (NOSTATE) leaves its node powered off and available again', async () => {
    const s = spec({ uuid: randomUUID() });
    created.add(s.uuid);
    await driver.spawn(s);
    await hooks.loseState(s.uuid);
    const { node } = await driver.getInfo(s.uuid);
    expect(await row(driver, s.uuid)).toBe('NOSTATE');
    await forget(s.uuid);
    // Without the power off, cleaning returned the node with no power state: never placeable again.
    const deadline = Date.now() + 30_000;
    let info = (await driver.listNodes()).find((n) => n.id === node)!;
    while (!info.available && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      info = (await driver.listNodes()).find((n) => n.id === node)!;
    }
    expect(info).toMatchObject({ id: node, available: true });
    expect((await raw.client.nodes.get(node, ['power_state'])).power_state).toBe('power off');
  });

  it('crashes a rescued instance out of its rescue: CRASHED in normal mode, as the model expects', async () => {
    const s = spec({ uuid: randomUUID() });
    created.add(s.uuid);
    await driver.spawn(s);
    await driver.rescue(s.uuid, { adminPassword: 'pw' });
    expect(await row(driver, s.uuid)).toBe('RESCUE');
    await hooks.crash(s.uuid);
    expect(await driver.getInfo(s.uuid)).toMatchObject({ uuid: s.uuid, powerState: 'CRASHED', mode: 'normal' });
    expect(await nodeOf(s.uuid)).toMatchObject({ provision_state: 'deploy failed', power_state: 'power off', instance_uuid: s.uuid });
    await forget(s.uuid);
  });
});

describe('the CRASHED row: the node is recovered first, then the operation does what the table says', () => {
  it.each([
    { name: 'powerOff', expected: 'SHUTDOWN', call: (u: string) => driver.powerOff(u, { gracefulTimeoutMs: 1000 }) },
    { name: 'powerOn', expected: 'RUNNING', call: (u: string) => driver.powerOn(u) },
    { name: 'reboot SOFT', expected: 'RUNNING', call: (u: string) => driver.reboot(u, 'SOFT') },
    { name: 'reboot HARD', expected: 'RUNNING', call: (u: string) => driver.reboot(u, 'HARD') },
    { name: 'rescue', expected: 'RESCUE', call: (u: string) => driver.rescue(u, { adminPassword: 'pw' }) },
    { name: 'rebuild', expected: 'RUNNING', call: (u: string) => driver.rebuild(u, { image: IMAGES[2] as never, preserveEphemeral: false }) },
    { name: 'restoreState RUNNING', expected: 'RUNNING', call: (u: string) => driver.restoreState(u, 'RUNNING') },
    { name: 'restoreState SHUTDOWN', expected: 'SHUTDOWN', call: (u: string) => driver.restoreState(u, 'SHUTDOWN') },
  ])('$name -> $expected', async ({ call, expected }) => {
    const uuid = await crashedInstance();
    await call(uuid);
    expect(await row(driver, uuid)).toBe(expected);
    const node = await nodeOf(uuid);
    expect(node.provision_state).toBe(expected === 'RESCUE' ? 'rescue' : 'active');
    expect(node.power_state).toBe(expected === 'SHUTDOWN' ? 'power off' : 'power on');
    await forget(uuid);
  });

  it('getInfo, console output and interfaces work and leave it CRASHED', async () => {
    const uuid = await crashedInstance();
    const vif = { id: randomUUID(), address: 'fa:16:3e:cc:00:01', network: { id: 'net-c', subnets: [] } };
    await driver.attachInterface(uuid, vif as never);
    expect((await driver.getInfo(uuid)).interfaces.map((i) => i.id)).toEqual([vif.id]);
    await driver.detachInterface(uuid, vif.id);
    expect(await row(driver, uuid)).toBe('CRASHED');
    await forget(uuid);
  });

  it('destroy removes it and releases the node', async () => {
    const uuid = await crashedInstance();
    const { node } = await driver.getInfo(uuid);
    await forget(uuid);
    expect(await code(driver.getInfo(uuid))).toBe('INSTANCE_NOT_FOUND');
    expect((await raw.client.nodes.get(node, ['instance_uuid'])).instance_uuid).toBeNull();
  });

  it('operations the CRASHED row refuses stay refused, and what bare metal lacks is UNSUPPORTED', async () => {
    const uuid = await crashedInstance();
    expect(await code(driver.unrescue(uuid))).toBe('INVALID_STATE');
    expect(await code(driver.pause(uuid))).toBe('UNSUPPORTED');
    expect(await code(driver.restoreState(uuid, 'PAUSED'))).toBe('UNSUPPORTED');
    expect(await row(driver, uuid)).toBe('CRASHED');
    await forget(uuid);
  });

  it('in maintenance the node cannot be recovered: CONFLICT (retryable), and it stays CRASHED until the operator is done', async () => {
    const uuid = await crashedInstance();
    const { node } = await driver.getInfo(uuid);
    expect(await ironicApi(raw, 'PUT', `/v1/nodes/${node}/maintenance`, { reason: 'operator at work' })).toBe(202);
    try {
      for (const call of [() => driver.powerOn(uuid), () => driver.reboot(uuid, 'HARD'), () => driver.rebuild(uuid, { image: IMAGES[0] as never, preserveEphemeral: false })]) {
        expect(await code(call())).toBe('CONFLICT');
      }
      expect(await row(driver, uuid)).toBe('CRASHED');
    } finally {
      await ironicApi(raw, 'DELETE', `/v1/nodes/${node}/maintenance`);
    }
    await driver.powerOn(uuid);
    expect(await row(driver, uuid)).toBe('RUNNING');
    await forget(uuid);
  });
});
