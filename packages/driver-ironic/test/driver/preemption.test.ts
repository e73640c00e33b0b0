/**
 * A hard reboot (or a destroy) preempts a soft reboot that hangs (contract 1.1, R-REBOOT-PREEMPT):
 * the guard aborts the soft reboot's signal and the driver lets go at once, even though Ironic
 * never finishes the soft reboot; then the hard reboot runs. Against a scripted Ironic whose soft
 * reboot never completes.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver } from '@nova-common/core';
import { createIronicDriver } from '../../src/index.js';
import { json, startMockIronic, type MockIronic } from '../helpers/mock-ironic.js';
import { deployedNode, serveNodes } from '../helpers/scripted-nodes.js';

const NODE = '00000000-0000-4000-8000-0000000000bb';
const instance = randomUUID();
let mock: MockIronic;
let driver: GuardedDriver;
const targets = () => mock.seen.filter((r) => r.method === 'PUT' && r.url.endsWith('/states/power')).map((r) => (JSON.parse(r.body) as { target: string }).target);

beforeEach(async () => {
  mock = await startMockIronic();
  const node = deployedNode(NODE, instance, 'power on');
  serveNodes(mock, [node], (req, res) => {
    const { target } = JSON.parse(req.body || '{}') as { target?: string };
    // A soft reboot Ironic never finishes; a hard one completes at once.
    if (target === 'soft rebooting') node.target_power_state = 'soft rebooting';
    if (target === 'rebooting') Object.assign(node, { power_state: 'power on', target_power_state: null });
    json(res, 202, undefined);
  });
  driver = guard(createIronicDriver({ endpoint: mock.url, softTimeoutS: 600, poll: { initialMs: 5, factor: 1.2, maxMs: 20, batchThreshold: 4 } }));
  await driver.initHost();
  await driver.getCapabilities();
});

afterEach(async () => {
  await driver.cleanupHost();
  await mock.close();
});

describe('soft reboot preemption', () => {
  it('a hard reboot cancels a hanging soft reboot: CANCELLED at once, then the hard reboot completes', async () => {
    const soft = driver.reboot(instance, 'SOFT').then(
      () => 'OK',
      (e: unknown) => (e as { code?: string }).code,
    );
    // The soft reboot has asked Ironic and is waiting for it.
    while (targets().length === 0) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    expect(targets()).toEqual(['soft rebooting']);
    await driver.reboot(instance, 'HARD');
    expect(await soft).toBe('CANCELLED');
    expect(targets()).toEqual(['soft rebooting', 'rebooting']);
    expect((await driver.getInfo(instance)).powerState).toBe('RUNNING');
  });
});
