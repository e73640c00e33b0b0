/**
 * CRASHED nodes the real fake-hardware Ironic cannot produce, against a scripted Ironic: a node
 * whose power Ironic lost while deployed (fault `power failure`, maintenance set by Ironic), and a
 * node whose recovery fails again.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver, type LifecycleEvent } from '@nova-common/core';
import { createIronicDriver } from '../../src/index.js';
import { ironicError, json, startMockIronic, type MockIronic } from '../helpers/mock-ironic.js';
import { deployedNode, serveNodes } from '../helpers/scripted-nodes.js';
import type { IronicNode } from '../../src/client/types.js';

const NODE = '00000000-0000-4000-8000-0000000000cc';
const instance = randomUUID();
let mock: MockIronic;
let driver: GuardedDriver;
let node: IronicNode;
const events: LifecycleEvent[] = [];
const sent = () => mock.seen.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${new URL(r.url, 'http://x').pathname.replace(`/v1/nodes/${NODE}`, '')} ${r.body}`.trim());

async function start(over: Partial<IronicNode>, redeployFails = false): Promise<void> {
  node = { ...deployedNode(NODE, instance, 'power on'), ...over };
  serveNodes(mock, [node], (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const body = JSON.parse(req.body || '{}') as { target?: string };
    if (path.endsWith('/states/power')) {
      Object.assign(node, { power_state: body.target, target_power_state: null });
      return json(res, 202, undefined);
    }
    if (path.endsWith('/states/provision')) {
      if (node.maintenance) return ironicError(res, 400, `The node ${NODE} is in maintenance mode, the requested provisioning action cannot be performed.`);
      if (redeployFails) Object.assign(node, { provision_state: 'deploy failed', target_provision_state: 'active', last_error: 'the BMC refused' });
      else Object.assign(node, { provision_state: 'active', target_provision_state: null, last_error: null });
      return json(res, 202, undefined);
    }
    if (req.method === 'DELETE' && path.endsWith('/maintenance')) {
      Object.assign(node, { maintenance: false, maintenance_reason: null, fault: null });
      return json(res, 202, undefined);
    }
    return json(res, 404, {});
  });
  driver = guard(createIronicDriver({ endpoint: mock.url, poll: { initialMs: 5, factor: 1.2, maxMs: 20, batchThreshold: 4 } }));
  await driver.initHost();
  driver.subscribeEvents((e) => events.push(e));
}

beforeEach(async () => {
  mock = await startMockIronic();
  events.length = 0;
});

afterEach(async () => {
  await driver?.cleanupHost();
  await mock.close();
});

describe('a node whose power Ironic lost while deployed', () => {
  const lost = { power_state: null, maintenance: true, maintenance_reason: 'During sync_power_state, max retries exceeded', fault: 'power failure' };

  it('is CRASHED; power on reaches the machine, then leaves the maintenance Ironic set for the failure: RUNNING', async () => {
    await start(lost);
    expect((await driver.getInfo(instance)).powerState).toBe('CRASHED');
    await driver.powerOn(instance);
    expect(sent()).toEqual(['PUT /states/power {"target":"power on"}', 'DELETE /maintenance']);
    expect((await driver.getInfo(instance)).powerState).toBe('RUNNING');
    expect(events.map((e) => [e.kind, e.cause])).toEqual([['STARTED', 'requested']]);
  });

  it('its recorded power is not trusted: restoreState SHUTDOWN sends the power off even if Ironic says off', async () => {
    await start({ ...lost, power_state: 'power off' });
    await driver.restoreState(instance, 'SHUTDOWN');
    expect(sent()).toEqual(['PUT /states/power {"target":"power off"}', 'DELETE /maintenance']);
    expect((await driver.getInfo(instance)).powerState).toBe('SHUTDOWN');
  });

  it('provisioning it (rebuild, rescue) is CONFLICT: Ironic keeps it in maintenance', async () => {
    await start(lost);
    await expect(driver.rescue(instance, {})).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(driver.rebuild(instance, { image: { id: 'img', name: 'img', diskFormat: 'raw', containerFormat: 'bare' }, preserveEphemeral: false } as never)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await driver.getInfo(instance)).powerState).toBe('CRASHED');
  });
});

describe('a node whose deploy failed', () => {
  it('is deployed again before power on (Ironic\'s rebuild with the record\'s config drive)', async () => {
    await start({ provision_state: 'deploy failed', target_provision_state: 'active', power_state: 'power off' });
    await driver.powerOn(instance);
    const [provision, power] = sent();
    expect(provision).toMatch(/^PUT \/states\/provision \{"target":"rebuild","configdrive":\{"meta_data":\{"uuid":"[^"]+","meta":\{[^}]*\},"hostname":"vm\.novalocal","name":"vm"/);
    expect(power).toBe('PUT /states/power {"target":"power on"}');
    expect((await driver.getInfo(instance)).powerState).toBe('RUNNING');
  });

  it('when Ironic fails to deploy it again, the power action is BACKEND_UNAVAILABLE (retryable) and it stays CRASHED', async () => {
    await start({ provision_state: 'deploy failed', target_provision_state: 'active', power_state: 'power off' }, true);
    await expect(driver.powerOn(instance)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true });
    expect(sent().some((s) => s.startsWith('PUT /states/power'))).toBe(false);
    expect((await driver.getInfo(instance)).powerState).toBe('CRASHED');
  });
});
