/**
 * What contract 1.1 changed, on the real Ironic: the changed cells this backend can reach, the
 * capabilities it declares, listSnapshots, and an operator's maintenance under an instance.
 * (The changed cells in PAUSED and SUSPENDED cannot be reached: bare metal has neither state, and
 * pause, suspend and snapshot are declared missing, which is checked here instead.)
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriverCapabilitiesSchema, type GuardedDriver } from '@nova-common/core';
import type { IronicDriver } from '../../src/index.js';
import { guardedTestDriver, requireIronic } from '../helpers/ironic-env.js';
import { IMAGES, spec } from '../helpers/specs.js';
import { code, ironicApi, row } from '../helpers/backend.js';

let raw: IronicDriver;
let driver: GuardedDriver;
const created = new Set<string>();

beforeAll(async () => {
  await requireIronic('default');
  ({ raw, driver } = guardedTestDriver('default'));
  await driver.initHost();
});

afterAll(async () => {
  if (!driver) return;
  for (const uuid of created) await driver.destroy(uuid).catch(() => undefined);
  await driver.cleanupHost();
});

async function instance(powerOn = true): Promise<string> {
  const s = spec({ uuid: randomUUID(), powerOn });
  created.add(s.uuid);
  await driver.spawn(s);
  return s.uuid;
}

const powerOf = async (uuid: string) => (await raw.client.nodes.get((await driver.getInfo(uuid)).node, ['power_state'])).power_state;

describe('declared capabilities', () => {
  it('restore-state partial (no PAUSED or SUSPENDED on bare metal), out-of-band events, no snapshots to list', async () => {
    const caps = DriverCapabilitiesSchema.parse(await driver.getCapabilities());
    expect(caps.capabilities['operation.restore-state']).toMatchObject({ level: 'partial', notes: expect.stringMatching(/PAUSED and SUSPENDED/) });
    expect(caps.capabilities['event.out-of-band']!.level).toBe('partial');
    expect(caps.capabilities['event.lifecycle']!.level).toBe('complete');
    expect(caps.capabilities['operation.list-snapshots']!.level).toBe('missing');
    expect(caps.capabilities['operation.snapshot']!.level).toBe('missing');
    expect(caps.eventualConsistency.eventDeliveryMs).toBe(raw.config.eventDeliveryMs);
  });

  it('without polling, out-of-band events are declared missing', async () => {
    const { driver: quiet } = guardedTestDriver('default', { eventPollMs: 0 });
    const caps = await quiet.getCapabilities();
    expect(caps.capabilities['event.out-of-band']!.level).toBe('missing');
    expect(caps.capabilities['event.lifecycle']!.level).toBe('complete');
  });

  it('listSnapshots, pause, suspend and snapshot are UNSUPPORTED', async () => {
    const uuid = await instance();
    expect(await code(driver.listSnapshots())).toBe('UNSUPPORTED');
    expect(await code(driver.pause(uuid))).toBe('UNSUPPORTED');
    expect(await code(driver.suspend(uuid))).toBe('UNSUPPORTED');
    expect(await code(driver.snapshot(uuid, { imageId: randomUUID(), name: 'snap' } as never))).toBe('UNSUPPORTED');
  });
});

describe('cells changed in 1.1 that bare metal reaches', () => {
  it('rebuild from SHUTDOWN ends SHUTDOWN (the machine is not started), from RUNNING ends RUNNING', async () => {
    const off = await instance(false);
    expect(await row(driver, off)).toBe('SHUTDOWN');
    await driver.rebuild(off, { image: IMAGES[1] as never, metadata: { rebuilt: 'off' }, preserveEphemeral: false });
    expect(await driver.getInfo(off)).toMatchObject({ powerState: 'SHUTDOWN', metadata: { rebuilt: 'off' } });
    expect(await powerOf(off)).toBe('power off');

    const on = await instance(true);
    await driver.rebuild(on, { image: IMAGES[1] as never, preserveEphemeral: false });
    expect(await row(driver, on)).toBe('RUNNING');
    expect(await powerOf(on)).toBe('power on');
  });

  it('power off without a grace period given waits the guard\'s default for a soft power off, which Ironic completes', async () => {
    const uuid = await instance();
    await driver.powerOff(uuid);
    expect(await row(driver, uuid)).toBe('SHUTDOWN');
  });
});

describe('an operator\'s maintenance under an instance', () => {
  it('provisioning (rebuild, rescue, unrescue) is CONFLICT; power actions, getInfo, console and destroy still work', async () => {
    const uuid = await instance();
    const rescued = await instance();
    await driver.rescue(rescued, {});
    const nodes = [(await driver.getInfo(uuid)).node, (await driver.getInfo(rescued)).node];
    for (const node of nodes) expect(await ironicApi(raw, 'PUT', `/v1/nodes/${node}/maintenance`, { reason: 'firmware update' })).toBe(202);
    try {
      expect(await code(driver.rebuild(uuid, { image: IMAGES[2] as never, preserveEphemeral: false }))).toBe('CONFLICT');
      const info = (await raw.client.nodes.get(nodes[0]!, ['instance_info'])).instance_info;
      expect(info?.image_source, 'a refused rebuild changes nothing').toContain('nc-image-1');
      expect(await code(driver.rescue(uuid, {}))).toBe('CONFLICT');
      expect(await code(driver.unrescue(rescued))).toBe('CONFLICT');
      expect(await row(driver, uuid)).toBe('RUNNING');
      expect(await row(driver, rescued)).toBe('RESCUE');

      await driver.powerOff(uuid, { gracefulTimeoutMs: 1000 });
      expect(await row(driver, uuid)).toBe('SHUTDOWN');
      await driver.reboot(uuid, 'HARD');
      expect(await row(driver, uuid)).toBe('RUNNING');
      await driver.restoreState(uuid, 'SHUTDOWN');
      expect(await row(driver, uuid)).toBe('SHUTDOWN');
      expect((await driver.getConsoleOutput(uuid)).output).toContain(nodes[0]);
      await driver.destroy(uuid);
      created.delete(uuid);
      expect(await code(driver.getInfo(uuid))).toBe('INSTANCE_NOT_FOUND');
    } finally {
      for (const node of nodes) await ironicApi(raw, 'DELETE', `/v1/nodes/${node}/maintenance`);
    }
  });
});
