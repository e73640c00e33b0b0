/**
 * Node choice for spawn against a scripted Ironic: a node fits as Placement decides with core's
 * fit of the flavor's usage against the node's inventory as getInventory reports it (one unit of
 * its custom class), and the flavor's required traits must be on the node. Every reservation
 * PATCH is refused as "taken by another host", so the PATCHed nodes are exactly the candidates.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { guard, type FlavorInput, type GuardedDriver } from '@nova-common/core';
import { createIronicDriver, type IronicDriver } from '../../src/index.js';
import { ironicError, startMockIronic, type MockIronic } from '../helpers/mock-ironic.js';
import { freeNode, serveNodes } from '../helpers/scripted-nodes.js';
import { IMAGES } from '../helpers/specs.js';

const PLAIN = '00000000-0000-4000-8000-00000000000a';
const RAID = '00000000-0000-4000-8000-00000000000b';
const GOLD = '00000000-0000-4000-8000-00000000000c';
const CLASSLESS = '00000000-0000-4000-8000-00000000000d';

let mock: MockIronic;
let raw: IronicDriver;
let driver: GuardedDriver;

beforeEach(async () => {
  mock = await startMockIronic();
  const nodes = [freeNode(PLAIN, 'baremetal'), freeNode(RAID, 'baremetal', ['CUSTOM_RAID']), freeNode(GOLD, 'gold'), freeNode(CLASSLESS, null)];
  serveNodes(mock, nodes, (_req, res) => ironicError(res, 409, 'Node is associated with instance 99999999-9999-4999-8999-999999999999.'));
  raw = createIronicDriver({ endpoint: mock.url, retry: { attempts: 0, baseDelayMs: 1, maxDelayMs: 1 } });
  driver = guard(raw);
  await driver.initHost();
});

afterEach(async () => {
  await driver.cleanupHost();
  await mock.close();
});

const flavor = (extraSpecs: Record<string, string>, over: Partial<FlavorInput> = {}): FlavorInput => ({
  id: 'f',
  name: 'f',
  vcpus: 8,
  memoryMb: 16384,
  rootGb: 100,
  extraSpecs,
  ...over,
});
const BAREMETAL = { 'resources:CUSTOM_BAREMETAL': '1', 'resources:VCPU': '0', 'resources:MEMORY_MB': '0', 'resources:DISK_GB': '0' };

/** The spawn's error code and the nodes it tried to reserve. */
async function attempt(f: FlavorInput, node?: string): Promise<{ code: string; tried: string[] }> {
  const err = await driver
    .spawn({ uuid: randomUUID(), name: 'p', flavor: f, image: IMAGES[0]!, ...(node ? { node } : {}) })
    .then(() => ({ code: 'OK' }), (e: { code: string }) => e);
  const tried = mock.seen.filter((r) => r.method === 'PATCH').map((r) => decodeURIComponent(r.url.split('/').pop()!));
  return { code: err.code, tried: [...new Set(tried)].sort() };
}

describe('spawn picks only the nodes the flavor fits', () => {
  it('a bare-metal flavor of class X: every available node of class X, none of another class or without one', async () => {
    expect(await attempt(flavor(BAREMETAL))).toEqual({ code: 'INSUFFICIENT_RESOURCES', tried: [PLAIN, RAID].sort() });
  });

  it('required traits narrow the candidates to the nodes that have them', async () => {
    expect(await attempt(flavor({ ...BAREMETAL, 'trait:CUSTOM_RAID': 'required' }))).toEqual({ code: 'INSUFFICIENT_RESOURCES', tried: [RAID] });
  });

  it('the other class\'s flavor goes to the other class', async () => {
    const gold = { 'resources:CUSTOM_GOLD': '1', 'resources:VCPU': '0', 'resources:MEMORY_MB': '0', 'resources:DISK_GB': '0' };
    expect(await attempt(flavor(gold))).toEqual({ code: 'INSUFFICIENT_RESOURCES', tried: [GOLD] });
  });

  it.each([
    ['VCPU/MEMORY_MB/DISK_GB not zeroed (a node offers only its class)', { 'resources:CUSTOM_BAREMETAL': '1' }],
    ['two units of the class (a node offers one)', { ...BAREMETAL, 'resources:CUSTOM_BAREMETAL': '2' }],
    ['a class no node has', { 'resources:CUSTOM_GPU': '1', 'resources:VCPU': '0', 'resources:MEMORY_MB': '0', 'resources:DISK_GB': '0' }],
  ])('%s: INSUFFICIENT_RESOURCES without touching a node', async (_what, extraSpecs) => {
    expect(await attempt(flavor(extraSpecs))).toEqual({ code: 'INSUFFICIENT_RESOURCES', tried: [] });
  });

  it('a flavor asking for nothing fits every node that has a class, never a node without one', async () => {
    const nothing = { 'resources:VCPU': '0', 'resources:MEMORY_MB': '0', 'resources:DISK_GB': '0' };
    expect(await attempt(flavor(nothing))).toEqual({ code: 'INSUFFICIENT_RESOURCES', tried: [PLAIN, RAID, GOLD].sort() });
  });
});

describe('spawn on a requested node', () => {
  it('refuses a node the flavor does not fit with INSUFFICIENT_RESOURCES naming what is missing', async () => {
    const err = await driver.spawn({ uuid: randomUUID(), name: 'p', flavor: flavor({ ...BAREMETAL, 'resources:CUSTOM_BAREMETAL': '2' }), image: IMAGES[0]!, node: PLAIN }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INSUFFICIENT_RESOURCES', message: expect.stringContaining('CUSTOM_BAREMETAL') });
    const traits = await driver.spawn({ uuid: randomUUID(), name: 'p', flavor: flavor({ ...BAREMETAL, 'trait:CUSTOM_RAID': 'required' }), image: IMAGES[0]!, node: PLAIN }).catch((e: unknown) => e);
    expect(traits).toMatchObject({ code: 'INSUFFICIENT_RESOURCES', message: expect.stringContaining('CUSTOM_RAID') });
    expect(mock.seen.filter((r) => r.method === 'PATCH')).toEqual([]);
  });

  it('reserves a node that fits (taken meanwhile: NODE_UNAVAILABLE) and refuses an unknown one', async () => {
    expect(await attempt(flavor(BAREMETAL), RAID)).toEqual({ code: 'NODE_UNAVAILABLE', tried: [RAID] });
    const unknown = driver.spawn({ uuid: randomUUID(), name: 'p', flavor: flavor(BAREMETAL), image: IMAGES[0]!, node: randomUUID() });
    await expect(unknown).rejects.toMatchObject({ code: 'NODE_NOT_FOUND' });
  });
});
