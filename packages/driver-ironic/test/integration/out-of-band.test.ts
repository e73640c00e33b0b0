/**
 * Out-of-band events on the real Ironic (contract 1.1, R-EVENT-OUT-OF-BAND): acting on Ironic
 * behind the driver's back (an operator's power action through the API, a failed deploy) is
 * followed, within the declared eventDeliveryMs, by an event with cause `out-of-band` whose power
 * state getInfo reports; the driver's own calls give `requested` events and no out-of-band ones.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendHooks, GuardedDriver, LifecycleEvent } from '@nova-common/core';
import type { IronicDriver } from '../../src/index.js';
import { guardedTestDriver, requireIronic } from '../helpers/ironic-env.js';
import { spec } from '../helpers/specs.js';
import { backendHooks, ironicApi, until } from '../helpers/backend.js';

let raw: IronicDriver;
let driver: GuardedDriver;
let hooks: Required<BackendHooks>;
let deliveryMs: number;
const created = new Set<string>();
const events: LifecycleEvent[] = [];
const POLL_MS = 250;

beforeAll(async () => {
  await requireIronic('default');
  ({ raw, driver } = guardedTestDriver('default', { eventPollMs: POLL_MS, eventDeliveryMs: 5000 }));
  await driver.initHost();
  hooks = await backendHooks(raw);
  const caps = await driver.getCapabilities();
  expect(caps.capabilities['event.out-of-band']!.level).not.toBe('missing');
  deliveryMs = caps.eventualConsistency.eventDeliveryMs;
  driver.subscribeEvents((e) => events.push(e));
});

afterAll(async () => {
  if (!driver) return;
  for (const uuid of created) await driver.destroy(uuid).catch(() => undefined);
  await driver.cleanupHost();
});

async function running(): Promise<string> {
  const s = spec({ uuid: randomUUID() });
  created.add(s.uuid);
  await driver.spawn(s);
  return s.uuid;
}

const of = (uuid: string, cause?: string) => events.filter((e) => e.uuid === uuid && (cause === undefined || e.cause === cause));

/** The next out-of-band event of `uuid` after the first `seen` ones, within the declared bound. */
async function nextOutOfBand(uuid: string, seen: number): Promise<LifecycleEvent> {
  await until(`an out-of-band event for ${uuid}`, deliveryMs, () => of(uuid, 'out-of-band').length > seen);
  return of(uuid, 'out-of-band')[seen]!;
}

describe('changes nobody asked the driver for', () => {
  it('an operator powers the machine off, then on, through Ironic\'s API: STOPPED then STARTED, out-of-band, as getInfo reports', async () => {
    const uuid = await running();
    await hooks.powerOffOutOfBand(uuid);
    const stopped = await nextOutOfBand(uuid, 0);
    expect(stopped).toMatchObject({ kind: 'STOPPED', powerState: 'SHUTDOWN', cause: 'out-of-band' });
    expect((await driver.getInfo(uuid)).powerState).toBe(stopped.powerState);

    const { node } = await driver.getInfo(uuid);
    expect(await ironicApi(raw, 'PUT', `/v1/nodes/${node}/states/power`, { target: 'power on' })).toBe(202);
    const started = await nextOutOfBand(uuid, 1);
    expect(started).toMatchObject({ kind: 'STARTED', powerState: 'RUNNING', cause: 'out-of-band', node });
    expect((await driver.getInfo(uuid)).powerState).toBe('RUNNING');
    // One event per change: later looks do not repeat them.
    await new Promise((r) => setTimeout(r, POLL_MS * 3));
    expect(of(uuid, 'out-of-band')).toHaveLength(2);
  });

  it('a deploy that fails on the node: CRASHED, out-of-band', async () => {
    const uuid = await running();
    await hooks.crash(uuid);
    const crashed = await nextOutOfBand(uuid, 0);
    expect(crashed).toMatchObject({ kind: 'CRASHED', powerState: 'CRASHED', cause: 'out-of-band' });
    expect((await driver.getInfo(uuid)).powerState).toBe('CRASHED');
  });

  it('an operation finds the change before the next look: the event comes first, then the operation\'s own', async () => {
    const uuid = await running();
    await hooks.powerOffOutOfBand(uuid);
    await driver.powerOn(uuid); // finds SHUTDOWN: the change is reported before the operation acts
    const mine = of(uuid).slice(1); // after spawn's STARTED
    expect(mine.map((e) => [e.kind, e.cause])).toEqual([
      ['STOPPED', 'out-of-band'],
      ['STARTED', 'requested'],
    ]);
  });
});

describe('changes the driver made', () => {
  it('are requested, and are never reported again as out-of-band', async () => {
    const uuid = await running();
    await driver.powerOff(uuid, { gracefulTimeoutMs: 1000 });
    await driver.reboot(uuid, 'HARD');
    await driver.restoreState(uuid, 'SHUTDOWN');
    await new Promise((r) => setTimeout(r, POLL_MS * 4));
    expect(of(uuid).map((e) => [e.kind, e.cause])).toEqual([
      ['STARTED', 'requested'],
      ['STOPPED', 'requested'],
      ['STARTED', 'requested'],
      ['STOPPED', 'requested'],
    ]);
    expect(of(uuid).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });
});
