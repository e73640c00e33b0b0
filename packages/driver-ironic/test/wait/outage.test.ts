/**
 * Waits during an Ironic outage, with the real client against a scripted Ironic that starts
 * refusing: the wait rejects with BACKEND_UNAVAILABLE (retryable) once no look has been answered
 * for the outage budget, long before its own deadline; an outage shorter than the budget is
 * ridden out. And a spawn whose deploy wait hits an outage surfaces BACKEND_UNAVAILABLE within the
 * budget (plus the release it then tries), not after deployTimeoutMs.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { guard, isDriverError } from '@nova-common/core';
import { IronicClient } from '../../src/client/client.js';
import type { IronicNode } from '../../src/client/types.js';
import { createIronicDriver } from '../../src/index.js';
import { NodeWatcher } from '../../src/wait/node-watcher.js';
import { ironicError, json, startMockIronic, type MockIronic } from '../helpers/mock-ironic.js';
import { freeNode, serveNodes } from '../helpers/scripted-nodes.js';
import { BAREMETAL_FLAVOR, IMAGES } from '../helpers/specs.js';

const NODE = '00000000-0000-4000-8000-0000000000e1';
const BUDGET = 800;
const policy = { initialMs: 10, factor: 1.5, maxMs: 100, batchThreshold: 4 };
const active = (n: IronicNode) => (n.provision_state === 'active' ? 'done' : 'continue');
const NO_RETRY = { attempts: 0, baseDelayMs: 1, maxDelayMs: 1 };

let mock: MockIronic;

beforeEach(async () => {
  mock = await startMockIronic();
});
afterEach(async () => {
  await mock.close().catch(() => undefined);
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => 'resolved',
    (e: unknown) => e,
  );
}

describe('a wait during an Ironic outage', () => {
  it('rejects BACKEND_UNAVAILABLE within the outage budget once Ironic stops answering (connection refused)', async () => {
    let looks = 0;
    mock.handle((_req, res) => {
      looks++;
      json(res, 200, { uuid: NODE, provision_state: 'deploying' });
    });
    const client = new IronicClient({ endpoint: mock.url, connections: 4, keepAliveTimeoutMs: 1000, requestTimeoutMs: 2000, retry: NO_RETRY });
    const watcher = new NodeWatcher(client, policy, {}, 1000, BUDGET);
    const waiting = rejection(watcher.wait(NODE, active, { kind: 'deploy', timeoutMs: 60_000 }));
    while (looks < 3) await new Promise((r) => setTimeout(r, 10));
    const down = performance.now();
    await mock.close();
    const err = await waiting;
    const took = performance.now() - down;
    expect(isDriverError(err) && err.code).toBe('BACKEND_UNAVAILABLE');
    expect(isDriverError(err) && err.retryable).toBe(true);
    expect(took).toBeGreaterThanOrEqual(BUDGET - policy.maxMs);
    expect(took).toBeLessThan(BUDGET + policy.maxMs + 500);
    watcher.close();
    await client.close();
  });

  it('rides out an outage shorter than the budget (503s, then answers) and ends when the node is active', async () => {
    const t0 = performance.now();
    mock.handle((_req, res) => {
      const t = performance.now() - t0;
      if (t > 100 && t < 100 + BUDGET / 2) return ironicError(res, 503, 'Service Unavailable');
      json(res, 200, { uuid: NODE, provision_state: t > 200 + BUDGET ? 'active' : 'deploying' });
    });
    const client = new IronicClient({ endpoint: mock.url, connections: 4, keepAliveTimeoutMs: 1000, requestTimeoutMs: 2000, retry: NO_RETRY });
    const watcher = new NodeWatcher(client, policy, {}, 1000, BUDGET);
    const node = await watcher.wait(NODE, active, { kind: 'deploy', timeoutMs: 60_000 });
    expect(node.provision_state).toBe('active');
    expect(mock.seen.length).toBeGreaterThan(3);
    watcher.close();
    await client.close();
  });

  it('a spawn whose deploy wait meets the outage is BACKEND_UNAVAILABLE within the budget, not after deployTimeoutMs', async () => {
    const node = freeNode(NODE, 'baremetal');
    serveNodes(mock, [node], (req, res) => {
      const path = new URL(req.url, 'http://x').pathname;
      if (req.method === 'PATCH') {
        const ops = JSON.parse(req.body) as { path: string; value?: unknown }[];
        Object.assign(node, { instance_uuid: ops[0]!.value, instance_info: ops[1]!.value });
        return json(res, 200, node);
      }
      if (path.endsWith('/validate')) return json(res, 200, { power: { result: true }, deploy: { result: true } });
      if (path.endsWith('/states/provision')) {
        Object.assign(node, { provision_state: 'deploying', target_provision_state: 'active' });
        json(res, 202, undefined);
        void mock.close(); // Ironic goes away while the driver waits for the deploy
        return;
      }
      return ironicError(res, 404, 'not scripted');
    });
    const driver = guard(
      createIronicDriver({ endpoint: mock.url, retry: NO_RETRY, poll: policy, outageBudgetMs: BUDGET, deployTimeoutMs: 600_000, requestTimeoutMs: 2000 }),
    );
    await driver.initHost();
    const started = performance.now();
    const err = await rejection(driver.spawn({ uuid: randomUUID(), name: 'bm', flavor: BAREMETAL_FLAVOR, image: IMAGES[0]! }));
    const took = performance.now() - started;
    expect(isDriverError(err) && err.code).toBe('BACKEND_UNAVAILABLE');
    expect(took).toBeLessThan(BUDGET + 2000);
    await driver.cleanupHost();
  });
});
