/**
 * restoreState after a real restart of Ironic (contract 1.1, R-RESTORE-STATE): instances are put
 * in every state they can be in on bare metal (RUNNING, SHUTDOWN, CRASHED through the crash hook,
 * NOSTATE through loseState, RESCUE), Ironic is restarted for real (`ironic.sh restart`, database
 * kept), every instance is found as it was (bare metal keeps its power), and restoreState brings
 * each to the desired state, or refuses as the table and the capabilities say.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendHooks, GuardedDriver, LifecycleEvent } from '@nova-common/core';
import type { IronicDriver } from '../../src/index.js';
import { guardedTestDriver, requireIronic } from '../helpers/ironic-env.js';
import { spec } from '../helpers/specs.js';
import { backendHooks, code, row } from '../helpers/backend.js';

let raw: IronicDriver;
let driver: GuardedDriver;
let hooks: Required<BackendHooks>;
const created = new Set<string>();
const events: LifecycleEvent[] = [];

beforeAll(async () => {
  await requireIronic('default');
  ({ raw, driver } = guardedTestDriver('default', { eventPollMs: 250 }));
  await driver.initHost();
  hooks = await backendHooks(raw);
  driver.subscribeEvents((e) => events.push(e));
});

afterAll(async () => {
  if (!driver) return;
  for (const uuid of created) await driver.destroy(uuid).catch(() => undefined);
  await driver.cleanupHost();
});

type Start = 'RUNNING' | 'SHUTDOWN' | 'CRASHED' | 'NOSTATE' | 'RESCUE';
const STARTS: Start[] = ['RUNNING', 'SHUTDOWN', 'CRASHED', 'NOSTATE', 'RESCUE'];

/** A new instance in `state`, reached as it would be in real life (through the driver or the backend hooks). */
async function instanceIn(state: Start): Promise<string> {
  const s = spec({ uuid: randomUUID(), powerOn: state !== 'SHUTDOWN' });
  created.add(s.uuid);
  await driver.spawn(s);
  if (state === 'CRASHED') await hooks.crash(s.uuid);
  if (state === 'NOSTATE') await hooks.loseState(s.uuid);
  if (state === 'RESCUE') await driver.rescue(s.uuid, {});
  expect(await row(driver, s.uuid)).toBe(state);
  return s.uuid;
}

/** The pid of the test Ironic (scripts/backends/ironic.sh keeps it there). */
function ironicPid(): string {
  return readFileSync('/tmp/nova-common/ironic/default/ironic.pid', 'utf8').trim();
}

async function destroyAll(): Promise<void> {
  for (const uuid of [...created]) {
    await driver.destroy(uuid);
    created.delete(uuid);
  }
}

describe('restoreState after Ironic restarted', () => {
  it.each(['RUNNING', 'SHUTDOWN'] as const)('to %s, from every state an instance can be in', async (desired) => {
    const instances = new Map<Start, string>();
    for (const state of STARTS) instances.set(state, await instanceIn(state));
    const before = events.length;
    const pidBefore = ironicPid();

    await hooks.restartBackend();
    expect(ironicPid(), 'a new Ironic process serves the same database').not.toBe(pidBefore);

    // Bare metal keeps its power across the restart: every instance is found as it was, and the
    // restart itself is no change anybody needs to hear about.
    for (const [state, uuid] of instances) expect(await row(driver, uuid), state).toBe(state);
    await new Promise((r) => setTimeout(r, 1000));
    expect(events.slice(before).filter((e) => e.cause === 'out-of-band')).toEqual([]);

    for (const [state, uuid] of instances) {
      if (state === 'RESCUE') {
        expect(await code(driver.restoreState(uuid, desired))).toBe('INVALID_STATE');
        expect(await row(driver, uuid)).toBe('RESCUE');
      } else {
        await driver.restoreState(uuid, desired);
        expect(await row(driver, uuid), `${state} -> ${desired}`).toBe(desired);
        const { node } = await driver.getInfo(uuid);
        const ironic = await raw.client.nodes.get(node, ['provision_state', 'power_state']);
        expect(ironic).toMatchObject({ provision_state: 'active', power_state: desired === 'RUNNING' ? 'power on' : 'power off' });
      }
    }
    // Idempotent: asked again, nothing changes.
    for (const [state, uuid] of instances) if (state !== 'RESCUE') await driver.restoreState(uuid, desired);
    await destroyAll();
  });

  it('PAUSED and SUSPENDED do not exist on bare metal: UNSUPPORTED, without a request to Ironic', async () => {
    const uuid = await instanceIn('RUNNING');
    const requests = raw.stats.requests;
    for (const desired of ['PAUSED', 'SUSPENDED'] as const) {
      const err = (await driver.restoreState(uuid, desired).catch((e: unknown) => e)) as { code: string; capability?: string };
      expect(err.code).toBe('UNSUPPORTED');
      expect(err.capability).toBe(desired === 'PAUSED' ? 'operation.pause' : 'operation.suspend');
    }
    expect(raw.stats.requests).toBe(requests);
    expect(await row(driver, uuid)).toBe('RUNNING');
    await destroyAll();
  });

  it('an unknown instance is INSTANCE_NOT_FOUND', async () => {
    expect(await code(driver.restoreState(randomUUID(), 'RUNNING'))).toBe('INSTANCE_NOT_FOUND');
  });
});
