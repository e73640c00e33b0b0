/**
 * Free nodes Ironic left in failure states, against a scripted Ironic that follows Ironic's state
 * machine for the actions the driver sends (manage, provide, deleted): which nodes initHost and
 * spawn bring back, with which requests, and which they leave to the operator (reported unavailable).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver } from '@nova-common/core';
import { createIronicDriver, type IronicDriverConfigInput } from '../../src/index.js';
import { ironicError, json, startMockIronic, type MockIronic } from '../helpers/mock-ironic.js';
import { deployedNode, freeNode, serveNodes } from '../helpers/scripted-nodes.js';
import type { IronicNode } from '../../src/client/types.js';
import { BAREMETAL_FLAVOR, IMAGES } from '../helpers/specs.js';

const id = (n: number) => `00000000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`;
const AUTO_CLEAN_FAILED = id(1);
const DEPLOY_FAILED = id(2);
const MANUAL_CLEAN_FAILED = id(3);
const INSPECT_FAILED = id(4);
const MAINTENANCE = id(5);
const CRASHED_INSTANCE = id(6);
const ADOPT_FAILED = id(7);

let mock: MockIronic;
let driver: GuardedDriver;
let nodes: IronicNode[];
/** How Ironic's cleaning after provide or deleted ends: at once, failed, or still running. */
let cleaning: 'done' | 'fails' | 'running' = 'done';
/** Ironic refuses `provide` (a retired node, say). */
let provideRefused = false;

const failed = (uuid: string, provision_state: string, target: string | null, over: Partial<IronicNode> = {}): IronicNode => ({
  ...freeNode(uuid, 'baremetal'),
  provision_state,
  target_provision_state: target,
  last_error: `${provision_state} for a test`,
  ...over,
});

/** PUT .../states/provision, as Ironic's state machine answers it (cleaning completes at once, or fails). */
function provision(node: IronicNode, target: string): number {
  const ps = node.provision_state;
  const cleaned = () =>
    Object.assign(
      node,
      cleaning === 'done'
        ? { provision_state: 'available', target_provision_state: null, last_error: null }
        : { provision_state: cleaning === 'fails' ? 'clean failed' : 'cleaning', target_provision_state: 'available' },
    );
  if (target === 'manage' && ['clean failed', 'inspect failed', 'adopt failed', 'available'].includes(ps ?? '')) {
    Object.assign(node, { provision_state: 'manageable', target_provision_state: null });
    return 202;
  }
  if (target === 'provide' && ps === 'manageable') {
    if (node.maintenance || provideRefused) return 400;
    cleaned();
    return 202;
  }
  if (target === 'deleted' && ['deploy failed', 'error', 'rescue failed', 'unrescue failed', 'active'].includes(ps ?? '')) {
    cleaned();
    Object.assign(node, { instance_uuid: null, instance_info: {} });
    return 202;
  }
  return 400;
}

async function start(over: IronicDriverConfigInput = {}): Promise<void> {
  serveNodes(mock, nodes, (req, res) => {
    const m = /^\/v1\/nodes\/([^/]+)\/states\/provision$/.exec(new URL(req.url, 'http://x').pathname);
    const node = m && nodes.find((n) => n.uuid === m[1]);
    if (req.method === 'PUT' && node) {
      const status = provision(node, (JSON.parse(req.body) as { target: string }).target);
      return status === 202 ? json(res, 202, undefined) : ironicError(res, 400, `The requested action can not be performed on node ${node.uuid} while it is in state "${node.provision_state}".`);
    }
    if (req.method === 'PATCH') return ironicError(res, 409, 'Node is associated with instance 99999999-9999-4999-8999-999999999999.');
    return ironicError(res, 404, 'not scripted');
  });
  driver = guard(createIronicDriver({ endpoint: mock.url, retry: { attempts: 0, baseDelayMs: 1, maxDelayMs: 1 }, ...over }));
  await driver.initHost();
}

/** The provision actions sent, as `<node number> <target>`. */
const actions = () =>
  mock.seen
    .filter((r) => r.method === 'PUT' && r.url.endsWith('/states/provision'))
    .map((r) => `${r.url.split('/')[3]!.slice(-2)} ${(JSON.parse(r.body) as { target: string }).target}`);

beforeEach(async () => {
  mock = await startMockIronic();
  cleaning = 'done';
  provideRefused = false;
  nodes = [
    failed(AUTO_CLEAN_FAILED, 'clean failed', 'available'),
    failed(DEPLOY_FAILED, 'deploy failed', 'active'),
    failed(MANUAL_CLEAN_FAILED, 'clean failed', 'manageable'),
    failed(INSPECT_FAILED, 'inspect failed', 'manageable'),
    failed(MAINTENANCE, 'clean failed', 'available', { maintenance: true, maintenance_reason: 'disk erase failed', fault: 'clean failure' }),
    { ...deployedNode(CRASHED_INSTANCE, randomUUID(), 'power off'), provision_state: 'deploy failed', target_provision_state: 'active' },
    failed(ADOPT_FAILED, 'adopt failed', 'active'),
  ];
});

afterEach(async () => {
  await driver.cleanupHost();
  await mock.close();
});

describe('recovering free nodes from failure states', () => {
  it('initHost brings back an automated clean failure (manage, provide) and a failed deploy without instance (deleted), nothing else', async () => {
    await start();
    expect(actions().sort()).toEqual(['01 manage', '01 provide', '02 deleted']);
    const listed = await driver.listNodes();
    const byId = new Map(listed.map((n) => [n.id, n]));
    expect(byId.get(AUTO_CLEAN_FAILED)).toEqual({ id: AUTO_CLEAN_FAILED, available: true });
    expect(byId.get(DEPLOY_FAILED)).toEqual({ id: DEPLOY_FAILED, available: true });
    // Left to the operator, and reported unavailable.
    expect(byId.get(MANUAL_CLEAN_FAILED)).toEqual({ id: MANUAL_CLEAN_FAILED, available: false, unavailableReason: 'error' });
    expect(byId.get(INSPECT_FAILED)).toEqual({ id: INSPECT_FAILED, available: false, unavailableReason: 'error' });
    expect(byId.get(ADOPT_FAILED)).toEqual({ id: ADOPT_FAILED, available: false, unavailableReason: 'error' });
    expect(byId.get(MAINTENANCE)).toEqual({ id: MAINTENANCE, available: false, unavailableReason: 'maintenance' });
    // The CRASHED instance's node is the instance's: untouched.
    expect(nodes.find((n) => n.uuid === CRASHED_INSTANCE)?.provision_state).toBe('deploy failed');
  });

  it('a spawn recovers a node that failed after initHost, and gives up on one that keeps failing after nodeRecoveryAttempts', async () => {
    nodes = [freeNode(AUTO_CLEAN_FAILED, 'baremetal')];
    await start({ nodeRecoveryAttempts: 2 });
    expect(actions()).toEqual([]);
    Object.assign(nodes[0]!, { provision_state: 'clean failed', target_provision_state: 'available' });
    cleaning = 'fails';
    const spec = { uuid: randomUUID(), name: 'bm', flavor: BAREMETAL_FLAVOR, image: IMAGES[0]! };
    for (let i = 0; i < 4; i++) await expect(driver.spawn(spec)).rejects.toMatchObject({ code: 'INSUFFICIENT_RESOURCES' });
    // Two attempts (each: manage, provide), then the node is left failed and reported so.
    expect(actions()).toEqual(['01 manage', '01 provide', '01 manage', '01 provide']);
    expect(await driver.listNodes()).toEqual([{ id: AUTO_CLEAN_FAILED, available: false, unavailableReason: 'error' }]);
  });

  it('a spawn naming a failed node starts its recovery and reports it unavailable while Ironic cleans it', async () => {
    nodes = [freeNode(AUTO_CLEAN_FAILED, 'baremetal')];
    await start();
    Object.assign(nodes[0]!, { provision_state: 'clean failed', target_provision_state: 'available' });
    cleaning = 'running'; // Ironic's cleaning takes a while: the node is `cleaning` after provide
    const spec = { uuid: randomUUID(), name: 'bm', flavor: BAREMETAL_FLAVOR, image: IMAGES[0]!, node: AUTO_CLEAN_FAILED };
    await expect(driver.spawn(spec)).rejects.toMatchObject({ code: 'NODE_UNAVAILABLE' });
    expect(actions()).toEqual(['01 manage', '01 provide']);
    expect(await driver.listNodes()).toEqual([{ id: AUTO_CLEAN_FAILED, available: false, unavailableReason: 'cleaning' }]);
  });

  it('a node left manageable by a refused provide gets provide again on the next pass, within the attempts', async () => {
    nodes = [failed(AUTO_CLEAN_FAILED, 'clean failed', 'available')];
    provideRefused = true;
    await start({ nodeRecoveryAttempts: 2 });
    expect(actions()).toEqual(['01 manage', '01 provide']);
    expect(nodes[0]!.provision_state).toBe('manageable');
    const spec = { uuid: randomUUID(), name: 'bm', flavor: BAREMETAL_FLAVOR, image: IMAGES[0]! };
    provideRefused = false;
    await expect(driver.spawn(spec)).rejects.toMatchObject({ code: 'INSUFFICIENT_RESOURCES' }); // every reservation is refused here
    expect(actions()).toEqual(['01 manage', '01 provide', '01 provide']);
    expect(nodes[0]!.provision_state).toBe('available');
  });

  it('nodeRecoveryAttempts 0 recovers nothing', async () => {
    await start({ nodeRecoveryAttempts: 0 });
    expect(actions()).toEqual([]);
    expect((await driver.listNodes()).find((n) => n.id === AUTO_CLEAN_FAILED)).toEqual({ id: AUTO_CLEAN_FAILED, available: false, unavailableReason: 'error' });
  });
});
