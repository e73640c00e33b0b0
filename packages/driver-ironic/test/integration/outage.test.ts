/**
 * An Ironic outage during a wait, on the real Ironic behind a proxy whose link the test cuts right
 * after the driver's deploy (or power off) request was answered: the call surfaces
 * BACKEND_UNAVAILABLE (retryable) within the outage budget instead of waiting out deployTimeoutMs /
 * actionTimeoutMs, and once the link is back the same call, retried, converges: the spawn undoes
 * what the failed one left and deploys, the power off finds the node off.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDriverError, type GuardedDriver } from '@nova-common/core';
import { startCuttableProxy, type CuttableProxy } from '../helpers/cuttable-proxy.js';
import { ENDPOINTS, guardedTestDriver, requireIronic } from '../helpers/ironic-env.js';
import { spec } from '../helpers/specs.js';
import { row } from '../helpers/backend.js';

const BUDGET = 1500;
/** The budget, plus a look, plus the release the failed spawn tries (two quick retries), plus scheduling. */
const BOUND = BUDGET + 3000;

let proxy: CuttableProxy;
let armed: 'deploy' | 'power off' | undefined;
let driver: GuardedDriver;
let direct: ReturnType<typeof guardedTestDriver>;
const created = new Set<string>();

beforeAll(async () => {
  await requireIronic('default');
  proxy = await startCuttableProxy(ENDPOINTS.default, (method, path, body) => {
    const hit =
      method === 'PUT' &&
      ((armed === 'deploy' && path.endsWith('/states/provision') && body.includes('"active"')) ||
        (armed === 'power off' && path.endsWith('/states/power') && body.includes('"power off"')));
    if (hit) armed = undefined;
    return hit;
  });
  ({ driver } = guardedTestDriver('default', {
    endpoint: proxy.url,
    outageBudgetMs: BUDGET,
    poll: { initialMs: 20, factor: 1.5, maxMs: 200, batchThreshold: 4 },
    retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 100 },
    deployTimeoutMs: 1_800_000,
    actionTimeoutMs: 300_000,
  }));
  await driver.initHost();
  direct = guardedTestDriver('default');
  await direct.driver.initHost();
});

afterAll(async () => {
  for (const uuid of created) await direct?.driver.destroy(uuid).catch(() => undefined);
  await direct?.driver.cleanupHost();
  await driver?.cleanupHost();
  await proxy?.close();
});

async function failure(p: Promise<unknown>): Promise<{ code: string; retryable: boolean; ms: number }> {
  const t0 = performance.now();
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  return { code: isDriverError(e) ? e.code : String(e), retryable: isDriverError(e) && e.retryable, ms: performance.now() - t0 };
}

/** Nodes holding the instance, as Ironic sees them (not through the proxy). */
const holders = async (uuid: string) => (await direct.raw.client.nodes.list({ fields: ['uuid', 'instance_uuid'], query: { instance_uuid: uuid } })).length;

describe('an Ironic outage during a wait', () => {
  it('spawn: BACKEND_UNAVAILABLE within the budget; the retried spawn converges to one RUNNING instance', async () => {
    const s = spec({ uuid: randomUUID() });
    created.add(s.uuid);
    armed = 'deploy';
    const first = await failure(driver.spawn(s));
    expect(first).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true });
    expect(first.ms).toBeLessThan(BOUND);
    // Ironic went on without us: the half-made instance is still on a node.
    expect(await holders(s.uuid)).toBe(1);
    await proxy.restore();
    await driver.spawn(s);
    expect(await row(driver, s.uuid)).toBe('RUNNING');
    expect(await holders(s.uuid)).toBe(1);
    expect((await driver.listInstances()).filter((i) => i.uuid === s.uuid)).toHaveLength(1);
  });

  it('powerOff: BACKEND_UNAVAILABLE within the budget; the retried power off ends SHUTDOWN', async () => {
    const s = spec({ uuid: randomUUID() });
    created.add(s.uuid);
    await driver.spawn(s);
    armed = 'power off';
    const first = await failure(driver.powerOff(s.uuid, { gracefulTimeoutMs: 0 }));
    expect(first).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true });
    expect(first.ms).toBeLessThan(BOUND);
    await proxy.restore();
    await driver.powerOff(s.uuid, { gracefulTimeoutMs: 0 });
    expect(await row(driver, s.uuid)).toBe('SHUTDOWN');
  });
});
