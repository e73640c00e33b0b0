/**
 * Ids at the driver's border: a node id Ironic cannot hold is NODE_NOT_FOUND without asking Ironic,
 * an image id that could carry a path into the image source is INVALID_INPUT naming the field, and
 * nothing is sent to Ironic for either.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { guard, type DriverError, type GuardedDriver } from '@nova-common/core';
import { createIronicDriver } from '../../src/index.js';
import { imageIdProblem, nodeIdentProblem } from '../../src/mapping/ids.js';
import { json, startMockIronic, type MockIronic } from '../helpers/mock-ironic.js';
import { deployedNode, freeNode, serveNodes } from '../helpers/scripted-nodes.js';
import { BAREMETAL_FLAVOR, IMAGES } from '../helpers/specs.js';

describe('id rules', () => {
  it('node: a uuid or an Ironic logical name (RFC 3986 unreserved characters, at most 255)', () => {
    for (const ok of ['1be26c0b-03f2-4d2e-ae87-c02d7f33c123', 'node-1', 'rack2.u14_a~b', 'N'.repeat(255)]) expect(nodeIdentProblem(ok)).toBeUndefined();
    for (const bad of ['a%2Fb', 'a/b', '..', '.', 'a b', 'nöde', 'a?b', 'a#b', '', 'N'.repeat(256)]) expect(nodeIdentProblem(bad)).toBeTypeOf('string');
  });

  it('image: a uuid or a name, never a path or a relative segment', () => {
    for (const ok of ['nc-image-1', '1be26c0b-03f2-4d2e-ae87-c02d7f33c123', 'ubuntu-22.04_x86~64', 'a..b']) expect(imageIdProblem(ok)).toBeUndefined();
    for (const bad of ['../../etc/passwd', '..', '.', '...', 'a/b', 'a\\b', '%2e%2e', 'http://x/y.img', 'a b']) expect(imageIdProblem(bad)).toBeTypeOf('string');
  });
});

describe('ids through the guarded driver', () => {
  const FREE = '00000000-0000-4000-8000-0000000000a1';
  const USED = '00000000-0000-4000-8000-0000000000a2';
  const instance = randomUUID();
  let mock: MockIronic;
  let driver: GuardedDriver;
  const requestsAfterInit = () => mock.seen.slice(initRequests);
  let initRequests = 0;

  beforeEach(async () => {
    mock = await startMockIronic();
    serveNodes(mock, [freeNode(FREE, 'baremetal'), deployedNode(USED, instance, 'power on')], (_req, res) => json(res, 500, {}));
    driver = guard(createIronicDriver({ endpoint: mock.url, retry: { attempts: 0, baseDelayMs: 1, maxDelayMs: 1 } }));
    await driver.initHost();
    initRequests = mock.seen.length;
  });

  afterEach(async () => {
    await driver.cleanupHost();
    await mock.close();
  });

  const spec = (over: Record<string, unknown>) => ({ uuid: randomUUID(), name: 'bm', flavor: BAREMETAL_FLAVOR, image: IMAGES[0]!, ...over });

  it('spawn on node `a%2Fb` is NODE_NOT_FOUND naming spec.node; Ironic is never asked for that node', async () => {
    const err = (await driver.spawn(spec({ node: 'a%2Fb' })).catch((e: unknown) => e)) as DriverError;
    expect(err.code).toBe('NODE_NOT_FOUND');
    expect(err.target).toBe('a%2Fb');
    expect(err.message).toContain('spec.node');
    expect(requestsAfterInit().filter((r) => r.url.startsWith('/v1/nodes/a'))).toEqual([]);
    expect(requestsAfterInit().filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('spawn and rebuild with image `../../etc/passwd` are INVALID_INPUT on spec.image.id, before any request', async () => {
    const image = { ...IMAGES[0]!, id: '../../etc/passwd' };
    for (const call of [() => driver.spawn(spec({ image })), () => driver.rebuild(instance, { image })]) {
      const err = (await call().catch((e: unknown) => e)) as DriverError;
      expect(err.code).toBe('INVALID_INPUT');
      expect(err.issues?.map((i) => i.path.join('.'))).toEqual(['spec.image.id']);
    }
    expect(requestsAfterInit()).toEqual([]);
  });
});
