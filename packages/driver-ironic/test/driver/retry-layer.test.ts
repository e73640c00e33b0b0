/**
 * One retry layer per call path: a locked node is retried by the Ironic client only (the
 * guard retries nothing, the driver repeats no request), and the retries end with the call's
 * deadline, which the guard puts into the driver's signal.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { guard } from '@nova-common/core';
import { createIronicDriver } from '../../src/index.js';
import { ironicError, startMockIronic, type MockIronic } from '../helpers/mock-ironic.js';
import { deployedNode, serveNodes } from '../helpers/scripted-nodes.js';

const NODE = '00000000-0000-4000-8000-0000000000aa';
const LOCKED = 'Node 00000000-0000-4000-8000-0000000000aa is locked by host h, please retry after the current operation is completed.';

let mock: MockIronic;
const instance = randomUUID();
const powerRequests = () => mock.seen.filter((r) => r.method === 'PUT' && r.url.endsWith('/states/power'));

beforeEach(async () => {
  mock = await startMockIronic();
  serveNodes(mock, [deployedNode(NODE, instance, 'power off')], (_req, res) => ironicError(res, 409, LOCKED));
});

afterEach(async () => {
  await mock.close();
});

describe('retries', () => {
  it('a node that stays locked: the request is sent 1 + retry.attempts times in all, then CONFLICT', async () => {
    const driver = guard(createIronicDriver({ endpoint: mock.url, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } }));
    await driver.initHost();
    try {
      await expect(driver.powerOn(instance)).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(powerRequests()).toHaveLength(4);
    } finally {
      await driver.cleanupHost();
    }
  });

  it('the call\'s deadline ends the retries: TIMEOUT at the deadline, and no request after it', async () => {
    const raw = createIronicDriver({ endpoint: mock.url, retry: { attempts: 100, baseDelayMs: 100, maxDelayMs: 100 } });
    const driver = guard(raw, { timeouts: { powerOn: 400 } });
    await driver.initHost();
    try {
      const started = performance.now();
      await expect(driver.powerOn(instance)).rejects.toMatchObject({ code: 'TIMEOUT' });
      expect(performance.now() - started).toBeLessThan(2000);
      // The driver's own promise settles too (the guard keeps the instance's queue until it does).
      await expect(driver.getInfo(instance)).resolves.toMatchObject({ powerState: 'SHUTDOWN' });
      const sent = powerRequests().length;
      expect(sent).toBeGreaterThanOrEqual(1);
      expect(sent).toBeLessThan(20);
      await new Promise((r) => setTimeout(r, 300));
      expect(powerRequests()).toHaveLength(sent);
    } finally {
      await driver.cleanupHost();
    }
  });
});
