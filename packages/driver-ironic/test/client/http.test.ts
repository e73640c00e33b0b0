import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DriverError, backoffDelay } from '@nova-common/core';
import { IronicClient, MicroversionMismatchError } from '../../src/client/client.js';
import { IronicApiError, decodeErrorBody } from '../../src/client/errors.js';
import { ironicError, json, startMockIronic, type MockIronic } from '../helpers/mock-ironic.js';
import { toContractError } from '../../src/mapping/errors.js';

let mock: MockIronic;
let client: IronicClient;

function makeClient(over: Partial<ConstructorParameters<typeof IronicClient>[0]> = {}) {
  return new IronicClient({
    endpoint: mock.url,
    connections: 4,
    keepAliveTimeoutMs: 1000,
    requestTimeoutMs: 2000,
    retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
    ...over,
  });
}

beforeEach(async () => {
  mock = await startMockIronic();
  client = makeClient();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await client.close();
  await mock.close();
});

describe('microversion negotiation', () => {
  it('picks the highest version both sides accept and sends it on every later request', async () => {
    mock.handle((req, res) => (req.url === '/v1/' ? json(res, 200, { id: 'v1' }) : json(res, 200, { nodes: [] })));
    const v = await client.negotiate({ min: '1.56', max: '1.78' });
    expect(v).toBe('1.78');
    await client.nodes.list({ fields: ['uuid'] });
    await client.nodes.get('n1').catch(() => undefined);
    expect(mock.seen[0]!.headers['x-openstack-ironic-api-version']).toBe('1.78');
    for (const r of mock.seen.slice(1)) expect(r.headers['x-openstack-ironic-api-version']).toBe('1.78');
  });

  it('caps at the server maximum and reads the range from a 406 answer', async () => {
    mock.handle((_req, res) => {
      res.writeHead(406, { 'content-type': 'application/json', 'x-openstack-ironic-api-minimum-version': '1.1', 'x-openstack-ironic-api-maximum-version': '1.60' });
      res.end(JSON.stringify({ error_message: JSON.stringify({ code: 406, title: 'Not Acceptable', description: 'Version 1.82 was requested but ...' }) }));
    });
    expect(await client.negotiate({ min: '1.56', max: '1.82' })).toBe('1.60');
  });

  it('rejects a server whose range does not meet ours, as INVALID_INPUT on microversion', async () => {
    mock.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-openstack-ironic-api-minimum-version': '1.1', 'x-openstack-ironic-api-maximum-version': '1.46' });
      res.end('{}');
    });
    const err = await client.negotiate({ min: '1.56', max: '1.82' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MicroversionMismatchError);
    const mapped = toContractError(err, { op: 'initHost' });
    expect(mapped.code).toBe('INVALID_INPUT');
    expect(mapped.issues?.[0]?.path).toEqual(['microversion']);
  });
});

describe('error bodies', () => {
  it('decodes the double-encoded faultstring', () => {
    const body = JSON.stringify({ error_message: JSON.stringify({ faultcode: 'Client', faultstring: 'Node nope could not be found.', debuginfo: null }) });
    expect(decodeErrorBody(body)).toBe('Node nope could not be found.');
  });

  it('decodes the 406 shape (code/title/description)', () => {
    const body = JSON.stringify({ error_message: JSON.stringify({ code: 406, title: 'Not Acceptable', description: 'Version 1.99 was requested' }) });
    expect(decodeErrorBody(body)).toBe('Version 1.99 was requested');
  });

  it('keeps a body that is not JSON', () => {
    expect(decodeErrorBody('<html>bad gateway</html>')).toBe('<html>bad gateway</html>');
  });

  it.each([
    [404, 'Node x could not be found.', 'not-found', 'INSTANCE_NOT_FOUND'],
    [400, 'The requested action "rescue" can not be performed on node "x" while it is in state "available".', 'bad-request', 'INVALID_STATE'],
    [400, 'Node x is in maintenance mode.', 'bad-request', 'CONFLICT'],
    [409, 'Node x is associated with instance y.', 'conflict', 'CONFLICT'],
    [503, 'No free conductor workers available', 'unavailable', 'BACKEND_UNAVAILABLE'],
    [500, 'boom', 'server', 'INTERNAL'],
  ] as const)('status %i (%s) -> %s -> %s', async (status, fault, kind, code) => {
    mock.handle((_req, res) => ironicError(res, status, fault));
    const err = (await client.nodes.get('x').catch((e: unknown) => e)) as IronicApiError;
    expect(err).toBeInstanceOf(IronicApiError);
    expect(err.kind).toBe(kind);
    expect(err.detail).toBe(fault);
    expect(toContractError(err, { op: 'getInfo' }).code).toBe(code);
  });
});

describe('retries', () => {
  it('retries 409 NodeLocked with core\'s backoff and then succeeds', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // pin the jitter: the delays are the policy's
    const policy = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 };
    let calls = 0;
    const times: number[] = [];
    mock.handle((_req, res) => {
      times.push(performance.now());
      if (++calls <= 2) return ironicError(res, 409, 'Node n1 is locked by host h, please retry after the current operation is completed.');
      json(res, 200, { uuid: 'n1' });
    });
    const node = await client.nodes.patch('n1', [{ op: 'add', path: '/extra/a', value: 1 }]);
    expect(node.uuid).toBe('n1');
    expect(calls).toBe(3);
    expect(client.http.stats.retries).toBe(2);
    // A delay before each retry, as long as core's backoffDelay says (5 ms, then 10 ms), not an immediate repeat.
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(backoffDelay(policy, 0) - 1);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(backoffDelay(policy, 1) - 1);
  });

  it('does not retry a 409 that is not a lock (a real conflict)', async () => {
    mock.handle((_req, res) => ironicError(res, 409, 'Node n1 is associated with instance i.'));
    const err = (await client.nodes.patch('n1', []).catch((e: unknown) => e)) as IronicApiError;
    expect(err.kind).toBe('conflict');
    expect(mock.seen).toHaveLength(1);
  });

  it('retries 503 up to the policy, then gives BACKEND_UNAVAILABLE', async () => {
    mock.handle((_req, res) => ironicError(res, 503, 'No free conductor workers available'));
    const err = await client.nodes.get('n1').catch((e: unknown) => e);
    expect(mock.seen).toHaveLength(4); // 1 + 3 attempts
    expect(toContractError(err, { op: 'getInfo' }).code).toBe('BACKEND_UNAVAILABLE');
  });

  it('stops retrying when the call\'s deadline fires, with the deadline\'s TIMEOUT, and sends nothing after it', async () => {
    await client.close();
    client = makeClient({ retry: { attempts: 50, baseDelayMs: 200, maxDelayMs: 200 } });
    mock.handle((_req, res) => ironicError(res, 409, 'Node n1 is locked by host h, please retry after the current operation is completed.'));
    const deadline = new AbortController();
    const timeout = new DriverError('TIMEOUT', { op: 'powerOn', detail: 'no answer within 150 ms' });
    setTimeout(() => deadline.abort(timeout), 150);
    const started = performance.now();
    const err = await client.states.power('n1', 'power on', undefined, { signal: deadline.signal }).catch((e: unknown) => e);
    expect(err).toBe(timeout);
    expect(performance.now() - started).toBeLessThan(1000); // not 50 attempts x 200 ms
    const sent = mock.seen.length;
    expect(sent).toBeGreaterThanOrEqual(1);
    expect(sent).toBeLessThan(50);
    await new Promise((r) => setTimeout(r, 300));
    expect(mock.seen).toHaveLength(sent);
  });

  it('sends a request once when asked not to retry (a caller that repeats on its own schedule)', async () => {
    mock.handle((_req, res) => ironicError(res, 503, 'No free conductor workers available'));
    const err = await client.nodes.get('n1', undefined, { retry: false }).catch((e: unknown) => e);
    expect(mock.seen).toHaveLength(1);
    expect(toContractError(err, { op: 'getInfo' }).code).toBe('BACKEND_UNAVAILABLE');
    expect(client.http.stats.retries).toBe(0);
  });

  it('does not repeat a mutation whose connection failed after it was sent', async () => {
    let calls = 0;
    mock.handle((_req, res) => {
      calls++;
      // Drop the connection without an answer: the PUT may have reached Ironic.
      res.socket?.destroy();
    });
    const err = await client.states.power('n1', 'power on').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IronicApiError);
    expect((err as IronicApiError).kind).toBe('unavailable');
    expect(calls).toBe(1);
  });

  it('gives CONFLICT when the node stays locked', async () => {
    mock.handle((_req, res) => ironicError(res, 409, 'Node n1 is locked by host h, please retry after the current operation is completed.'));
    const err = await client.states.power('n1', 'power on').catch((e: unknown) => e);
    expect(toContractError(err, { op: 'powerOn' }).code).toBe('CONFLICT');
  });
});

describe('pagination', () => {
  it('follows markers with its own query (the next link drops filters) until a short page', async () => {
    const all = Array.from({ length: 5 }, (_, i) => ({ uuid: `u${i}` }));
    mock.handle((req, res) => {
      const u = new URL(req.url, 'http://x');
      const limit = Number(u.searchParams.get('limit'));
      const marker = u.searchParams.get('marker');
      const start = marker ? all.findIndex((n) => n.uuid === marker) + 1 : 0;
      const page = all.slice(start, start + limit);
      const next = page.length === limit ? `${mock.url}/v1/nodes?limit=${limit}&marker=${page[page.length - 1]!.uuid}` : undefined;
      json(res, 200, { nodes: page, ...(next ? { next } : {}) });
    });
    const nodes = await client.nodes.list({ fields: ['uuid', 'provision_state'], query: { resource_class: 'gold', associated: true }, limit: 2 });
    expect(nodes.map((n) => n.uuid)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);
    expect(mock.seen).toHaveLength(3);
    for (const r of mock.seen) {
      const u = new URL(r.url, 'http://x');
      expect(u.searchParams.get('resource_class')).toBe('gold');
      expect(u.searchParams.get('associated')).toBe('true');
      expect(u.searchParams.get('fields')).toBe('uuid,provision_state');
    }
    expect(new URL(mock.seen[1]!.url, 'http://x').searchParams.get('marker')).toBe('u1');
    expect(new URL(mock.seen[2]!.url, 'http://x').searchParams.get('marker')).toBe('u3');
  });
});

describe('timeouts, cancellation and the pool bound', () => {
  it('times out a request that gets no answer', async () => {
    await client.close();
    client = makeClient({ requestTimeoutMs: 100 });
    mock.handle(() => undefined); // never answers
    const err = (await client.nodes.get('n1').catch((e: unknown) => e)) as IronicApiError;
    expect(err.kind).toBe('timeout');
    expect(toContractError(err, { op: 'getInfo' }).code).toBe('TIMEOUT');
  });

  it('stops at once when the caller aborts, with the signal\'s CANCELLED', async () => {
    mock.handle(() => undefined);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const started = performance.now();
    const err = await client.nodes.get('n1', undefined, { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect((err as DriverError).code).toBe('CANCELLED');
    expect(performance.now() - started).toBeLessThan(1500);
    expect(toContractError(err, { op: 'getInfo' }).code).toBe('CANCELLED');
  });

  it('sends nothing once the call is over', async () => {
    mock.handle((_req, res) => json(res, 200, { uuid: 'n1' }));
    const ac = new AbortController();
    ac.abort(new DriverError('TIMEOUT', { op: 'powerOn' }));
    const err = await client.states.power('n1', 'power on', undefined, { signal: ac.signal }).catch((e: unknown) => e);
    expect((err as DriverError).code).toBe('TIMEOUT');
    expect(mock.seen).toHaveLength(0);
  });

  it('never opens more connections than configured', async () => {
    await client.close();
    client = makeClient({ connections: 2 });
    mock.handle((_req, res) => {
      setTimeout(() => json(res, 200, { uuid: "n" }), 20);
    });
    await Promise.all(Array.from({ length: 12 }, () => client.nodes.get('n')));
    expect(mock.seen).toHaveLength(12);
    expect(mock.maxOpenSockets).toBeLessThanOrEqual(2);
  });

  it('reports connection refused as BACKEND_UNAVAILABLE', async () => {
    await client.close();
    const url = mock.url;
    await mock.close();
    client = new IronicClient({ endpoint: url, connections: 1, keepAliveTimeoutMs: 100, requestTimeoutMs: 500, retry: { attempts: 1, baseDelayMs: 5, maxDelayMs: 5 } });
    const err = await client.nodes.get('n').catch((e: unknown) => e);
    expect(toContractError(err, { op: 'getInfo' }).code).toBe('BACKEND_UNAVAILABLE');
    mock = await startMockIronic();
  });
});
