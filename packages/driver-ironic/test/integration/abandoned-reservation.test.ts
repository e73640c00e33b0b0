/**
 * A spawn killed between reserving its node and asking Ironic to deploy leaves the node
 * `available` and holding the instance. A retried spawn of the uuid by a new driver process
 * releases such a reservation when the process that made it has certainly died (its holder in
 * the owner record), and converges; a reservation of a living process is left alone.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentHolder, type GuardedDriver } from '@nova-common/core';
import type { IronicDriver } from '../../src/index.js';
import { reservePatch } from '../../src/mapping/instance-info.js';
import { guardedTestDriver, requireIronic } from '../helpers/ironic-env.js';
import { IMAGE_SOURCE_TEMPLATE, spec } from '../helpers/specs.js';
import { code } from '../helpers/backend.js';

let raw: IronicDriver;
let driver: GuardedDriver;
const made: string[] = [];

beforeAll(async () => {
  await requireIronic('default');
  ({ raw, driver } = guardedTestDriver('default'));
  await driver.initHost();
});

afterAll(async () => {
  for (const uuid of made) await driver.destroy(uuid).catch(() => undefined);
  await driver.cleanupHost();
});

/** Reserve a free node for `uuid` as a spawn of the process `holder` would have, and stop there. */
async function reserveAs(holder: string): Promise<string> {
  const s = spec({ uuid: randomUUID() });
  made.push(s.uuid);
  const free = (await driver.listNodes()).find((n) => n.available);
  if (!free) throw new Error('no free Ironic node');
  await raw.client.nodes.patch(free.id, reservePatch(s, { hostId: 'nova-common', imageSourceTemplate: IMAGE_SOURCE_TEMPLATE, holder }, {}));
  return s.uuid;
}

describe('a reservation left by a spawn killed before its deploy', () => {
  it('is released by the retried spawn when its process has died, and the spawn converges', async () => {
    const parts = currentHolder().split(':');
    parts[3] = '999999999'; // no such pid
    const uuid = await reserveAs(parts.join(':'));
    await driver.spawn(spec({ uuid }));
    expect((await driver.getInfo(uuid)).powerState).toBe('RUNNING');
  });

  it('is left alone while its process lives: the spawn answers INSTANCE_EXISTS', async () => {
    const uuid = await reserveAs(currentHolder());
    expect(await code(driver.spawn(spec({ uuid })))).toBe('INSTANCE_EXISTS');
  });
});
