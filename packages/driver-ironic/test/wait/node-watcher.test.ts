import { describe, expect, it } from 'vitest';
import { DriverError } from '@nova-common/core';
import { NodeWatcher, WaitFailedError, WaitTimeoutError } from '../../src/wait/node-watcher.js';
import type { IronicClient } from '../../src/client/client.js';
import type { IronicNode } from '../../src/client/types.js';

/** A fake client whose nodes become `active` at a given time; counts the calls. */
function fakeClient(readyAt: Map<string, number>, failAt = new Map<string, number>()) {
  const calls = { get: 0, list: 0, retried: 0 };
  const view = (uuid: string): IronicNode => {
    const now = performance.now();
    if ((failAt.get(uuid) ?? Infinity) <= now) return { uuid, provision_state: 'deploy failed', last_error: 'boom' };
    return { uuid, provision_state: (readyAt.get(uuid) ?? Infinity) <= now ? 'active' : 'deploying' };
  };
  const client = {
    nodes: {
      get: async (uuid: string, _fields: unknown, c?: { retry?: boolean }) => {
        calls.get++;
        if (c?.retry !== false) calls.retried++;
        return view(uuid);
      },
      list: async (o?: { retry?: boolean }) => {
        calls.list++;
        if (o?.retry !== false) calls.retried++;
        return [...readyAt.keys()].map(view);
      },
    },
  } as unknown as IronicClient;
  return { client, calls };
}

const policy = { initialMs: 10, factor: 1.5, maxMs: 500, batchThreshold: 4 };
const active = (n: IronicNode) => (n.provision_state === 'active' ? 'done' : n.provision_state === 'deploy failed' ? { fail: n.last_error ?? '' } : 'continue');

describe('NodeWatcher', () => {
  it('ends close to the transition time with far fewer looks than fixed fast polling', async () => {
    const t0 = performance.now();
    const { client, calls } = fakeClient(new Map([['a', t0 + 300]]));
    const w = new NodeWatcher(client, policy, {}, 1000);
    const started = performance.now();
    await w.wait('a', active, { kind: 'deploy', timeoutMs: 5000 });
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(295);
    expect(took).toBeLessThan(300 * 1.6 + 50); // within one backoff step of the transition
    expect(calls.get).toBeLessThan(300 / policy.initialMs); // fewer looks than polling every initialMs
    w.close();
  });

  it('learns the typical duration: the next wait of that kind looks first near it', async () => {
    const t0 = performance.now();
    const { client, calls } = fakeClient(new Map([['a', t0 + 200]]));
    const w = new NodeWatcher(client, policy, {}, 1000);
    await w.wait('a', active, { kind: 'deploy', timeoutMs: 5000 });
    const firstLooks = calls.get;
    const t1 = performance.now();
    const second = fakeClient(new Map([['b', t1 + 200]]));
    const w2 = w as unknown as { client: IronicClient };
    w2.client = second.client;
    await w.wait('b', active, { kind: 'deploy', timeoutMs: 5000 });
    expect(w.typicalMs('deploy')).toBeGreaterThan(150);
    expect(second.calls.get).toBeLessThan(firstLooks);
    w.close();
  });

  it('serves many concurrent waits with list calls instead of one GET per node', async () => {
    const t0 = performance.now();
    const ready = new Map(Array.from({ length: 50 }, (_, i) => [`n${i}`, t0 + 100 + i * 4] as const));
    const { client, calls } = fakeClient(ready);
    const w = new NodeWatcher(client, policy, {}, 1000);
    await Promise.all([...ready.keys()].map((u) => w.wait(u, active, { kind: 'deploy', timeoutMs: 5000 })));
    expect(calls.list).toBeGreaterThan(0);
    expect(calls.list + calls.get).toBeLessThan(ready.size);
    // Looks are repeated on the watcher's schedule, so the client must not retry them too.
    expect(calls.retried).toBe(0);
    w.close();
  });

  it('rejects with the failure the check names, and times out', async () => {
    const t0 = performance.now();
    const { client } = fakeClient(new Map([['a', Infinity], ['b', Infinity]]), new Map([['a', t0 + 30]]));
    const w = new NodeWatcher(client, policy, {}, 1000);
    await expect(w.wait('a', active, { kind: 'deploy', timeoutMs: 5000 })).rejects.toBeInstanceOf(WaitFailedError);
    await expect(w.wait('b', active, { kind: 'deploy', timeoutMs: 100 })).rejects.toBeInstanceOf(WaitTimeoutError);
    w.close();
  });

  it('stops waiting when the call\'s signal aborts, with the signal\'s own error', async () => {
    const { client } = fakeClient(new Map([['a', Infinity]]));
    const w = new NodeWatcher(client, policy, {}, 1000);
    const ac = new AbortController();
    const deadline = new DriverError('TIMEOUT', { op: 'spawn', detail: 'no answer within 40 ms' });
    setTimeout(() => ac.abort(deadline), 40);
    await expect(w.wait('a', active, { kind: 'deploy', timeoutMs: 5000, signal: ac.signal })).rejects.toBe(deadline);
    await expect(w.wait('a', active, { kind: 'deploy', timeoutMs: 5000, signal: ac.signal })).rejects.toBe(deadline);
    w.close();
  });

  it('ends pending waits with CANCELLED when closed (cleanupHost)', async () => {
    const { client } = fakeClient(new Map([['a', Infinity]]));
    const w = new NodeWatcher(client, policy, {}, 1000);
    const pending = w.wait('a', active, { kind: 'deploy', timeoutMs: 5000 });
    setTimeout(() => w.close(), 20);
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(w.wait('a', active, { kind: 'deploy', timeoutMs: 5000 })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
