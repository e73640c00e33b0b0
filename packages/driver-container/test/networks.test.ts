import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard } from '@nova-common/core';
import type { EngineClient } from '../src/client/engine-client.js';
import { requireEngine, spec, testDriver, uuidv4 } from './helpers.js';

let client: EngineClient;
const driver = guard(testDriver('networks-test'));

beforeAll(async () => {
  client = await requireEngine();
  await driver.initHost();
});

afterAll(async () => {
  await driver.cleanupHost();
  await client?.close();
});

describe('engine networks shared by several instances', () => {
  it('destroying one instance keeps the network a stopped instance still uses, and removes it with the last one', async () => {
    const network = { id: `shared-${uuidv4().slice(0, 8)}` };
    const a = uuidv4();
    const b = uuidv4();
    await driver.spawn(spec(a, { networkInfo: [{ id: uuidv4(), address: 'fa:16:3e:00:00:0a', network }] }));
    await driver.spawn(spec(b, { networkInfo: [{ id: uuidv4(), address: 'fa:16:3e:00:00:0b', network }] }));
    await driver.powerOff(b, { gracefulTimeoutMs: 0 });
    await driver.destroy(a);

    await driver.powerOn(b);
    expect((await driver.getInfo(b)).powerState).toBe('RUNNING');

    await driver.destroy(b);
    const left = await client.request<{ Name: string }[]>('GET', '/networks');
    expect(left.body.map((n) => n.Name).filter((n) => n.includes(network.id))).toEqual([]);
  });
});
