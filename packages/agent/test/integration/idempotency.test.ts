import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { DriverError, guard, type ComputeDriver } from '@nova-common/core';
import { createReferenceDriver } from '@nova-common/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { instanceSpecToProto } from '../../src/mapping/instance-spec.js';
import { parseListenAddress } from '../../src/server/listen-address.js';
import { startAgent } from '../../src/server/agent.js';
import { serveReference, tempDir, type Served } from '../helpers/serve.js';
import { slowDriver } from '../helpers/slow-driver.js';
import { spec } from '../helpers/specs.js';
import { WireClient } from '../helpers/wire-client.js';

/** Lines of the reference driver's console that record `word` (STARTED once per real spawn). */
async function count(served: { reference: { getConsoleOutput(u: string): Promise<{ output: string }> } }, uuid: string, word: string): Promise<number> {
  const { output } = await served.reference.getConsoleOutput(uuid);
  return output.split('\n').filter((l) => l.includes(word)).length;
}

describe('a mutating request is acted on once per request id', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function served(options: Parameters<typeof serveReference>[1] = {}): Promise<{ s: Served; wire: WireClient }> {
    const s = await serveReference({}, options);
    const wire = new WireClient(`unix://${s.socket()}`);
    cleanups.push(() => s.close(), () => wire.close());
    return { s, wire };
  }

  it('a repeated spawn with the same request id answers OK again and spawns once', async () => {
    const { s, wire } = await served();
    const x = spec();
    const requestId = randomUUID();
    const first = await wire.call('spawn', { requestId, spec: instanceSpecToProto(x) });
    const again = await wire.call('spawn', { requestId, spec: instanceSpecToProto(x) });
    expect([first.ok, again.ok]).toStrictEqual([true, true]);
    expect(await s.reference.listInstances()).toHaveLength(1);
    expect(await count(s, x.uuid, 'STARTED spawn')).toBe(1);
    // A new request id is a new intent: the contract's answer to a second spawn.
    const other = await wire.call('spawn', { requestId: randomUUID(), spec: instanceSpecToProto(x) });
    expect(!other.ok && other.error?.code).toBe('INSTANCE_EXISTS');
  });

  it('concurrent duplicates wait for the first and share its outcome', async () => {
    const { s, wire } = await served({ wrap: (d) => slowDriver(d, 200, [], { ops: ['spawn'] }) });
    const x = spec();
    const requestId = randomUUID();
    const results = await Promise.all(Array.from({ length: 8 }, () => wire.call('spawn', { requestId, spec: instanceSpecToProto(x) })));
    expect(results.map((r) => r.ok)).toStrictEqual(Array(8).fill(true));
    expect(await s.reference.listInstances()).toHaveLength(1);
  });

  it('a non-retryable error is replayed: the repeat does not act on the new state', async () => {
    const { s, wire } = await served();
    const x = spec();
    const requestId = randomUUID();
    const first = await wire.call('pause', { requestId, uuid: x.uuid });
    expect(!first.ok && first.error?.code).toBe('INSTANCE_NOT_FOUND');
    expect((await wire.call('spawn', { requestId: randomUUID(), spec: instanceSpecToProto(x) })).ok).toBe(true);
    const again = await wire.call('pause', { requestId, uuid: x.uuid });
    expect(!again.ok && again.error?.code).toBe('INSTANCE_NOT_FOUND');
    expect((await s.reference.getInfo(x.uuid)).powerState).toBe('RUNNING');
  });

  it('refuses a request id reused with other arguments, and a missing one, naming requestId', async () => {
    const { wire } = await served();
    const requestId = randomUUID();
    const x = spec();
    expect((await wire.call('spawn', { requestId, spec: instanceSpecToProto(x) })).ok).toBe(true);
    for (const r of [
      await wire.call('spawn', { requestId, spec: instanceSpecToProto({ ...x, name: 'other' }) }),
      await wire.call('destroy', { requestId, uuid: x.uuid }),
      await wire.call('destroy', { uuid: x.uuid }),
    ]) {
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.grpcCode).toBe(status.INVALID_ARGUMENT);
      expect(r.error?.code).toBe('INVALID_INPUT');
      expect(r.error?.issues?.[0]?.path).toStrictEqual(['requestId']);
    }
  });

  it('converges across an agent restart: replayed when it ended, re-run and found done when the agent stopped mid-call', async () => {
    const state = tempDir('nova-agent-state-');
    const sockets = tempDir('nova-agent-sock-');
    cleanups.push(() => state.remove(), () => sockets.remove());
    // One backend (the reference driver's state) outlives the agents, as a hypervisor outlives its agent.
    const backend = createReferenceDriver();
    const socket = join(sockets.dir, 'agent.sock');
    const start = (wrapMs: number) =>
      startAgent({
        driver: guard(wrapMs > 0 ? slowDriver(backend, wrapMs, [], { ops: ['spawn'], when: 'after' }) : backend),
        driverName: 'reference',
        driverVersion: '1.0.0',
        listeners: [{ role: 'compute', address: parseListenAddress(`unix://${socket}`) }],
        stateDir: state.dir,
      });

    // 1. A spawn that ended: the agent restarts, the retry is answered from the journal.
    let agent = await start(0);
    let wire = new WireClient(`unix://${socket}`);
    const done = spec();
    const doneId = randomUUID();
    expect((await wire.call('spawn', { requestId: doneId, spec: instanceSpecToProto(done) })).ok).toBe(true);
    wire.close();
    await agent.shutdown(1000);
    expect(readFileSync(join(state.dir, 'requests.jsonl'), 'utf8')).toContain(doneId);

    // 2. A spawn the backend did, whose answer the agent never sent: it stops mid-call.
    agent = await start(5000);
    wire = new WireClient(`unix://${socket}`);
    const cut = spec();
    const cutId = randomUUID();
    const pending = wire.call('spawn', { requestId: cutId, spec: instanceSpecToProto(cut) });
    await new Promise((r) => setTimeout(r, 200));
    await agent.shutdown(0);
    expect((await pending).ok).toBe(false);
    wire.close();
    expect((await backend.listInstances()).map((i) => i.uuid).sort()).toStrictEqual([done.uuid, cut.uuid].sort());

    agent = await start(0);
    wire = new WireClient(`unix://${socket}`);
    cleanups.push(() => agent.shutdown(1000), () => wire.close());
    const replayed = await wire.call('spawn', { requestId: doneId, spec: instanceSpecToProto(done) });
    const rerun = await wire.call('spawn', { requestId: cutId, spec: instanceSpecToProto(cut) });
    expect([replayed.ok, rerun.ok]).toStrictEqual([true, true]);
    expect(await backend.listInstances()).toHaveLength(2);
    expect(await count({ reference: backend }, done.uuid, 'STARTED spawn')).toBe(1);
    expect(await count({ reference: backend }, cut.uuid, 'STARTED spawn')).toBe(1);
    // The journal survived too: the same id with other arguments is still refused.
    const reused = await wire.call('spawn', { requestId: doneId, spec: instanceSpecToProto(spec()) });
    expect(!reused.ok && reused.error?.code).toBe('INVALID_INPUT');
  });

  it('an interrupted spawn whose retry finds the uuid taken but no instance to read is CONFLICT (retryable, not recorded), never a false success', async () => {
    const state = tempDir('nova-agent-state-');
    const sockets = tempDir('nova-agent-sock-');
    cleanups.push(() => state.remove(), () => sockets.remove());
    const backend = createReferenceDriver();
    const socket = join(sockets.dir, 'agent.sock');
    const start = (driver: ComputeDriver) =>
      startAgent({ driver: guard(driver), driverName: 'reference', driverVersion: '1.0.0', listeners: [{ role: 'compute', address: parseListenAddress(`unix://${socket}`) }], stateDir: state.dir });
    const x = spec();
    const requestId = randomUUID();
    const request = { requestId, spec: instanceSpecToProto(x) };

    // The agent stops while the spawn runs (the journal holds it as begun, never ended).
    let agent = await start(slowDriver(backend, 5000, [], { ops: ['spawn'], when: 'before' }));
    let wire = new WireClient(`unix://${socket}`);
    const pending = wire.call('spawn', request);
    await new Promise((r) => setTimeout(r, 200));
    await agent.shutdown(0);
    expect((await pending).ok).toBe(false);
    wire.close();

    // A driver the attempt left half made: the uuid is claimed (INSTANCE_EXISTS) but nothing can be read.
    const halfMade = new Proxy(backend, {
      get: (target, key, receiver) =>
        key === 'spawn'
          ? () => Promise.reject(new DriverError('INSTANCE_EXISTS', { op: 'spawn', target: x.uuid }))
          : (Reflect.get(target, key, receiver) as unknown),
    });
    agent = await start(halfMade);
    wire = new WireClient(`unix://${socket}`);
    const retried = await wire.call('spawn', request);
    expect(!retried.ok && [retried.grpcCode, retried.error?.code, retried.error?.retryable]).toStrictEqual([status.ABORTED, 'CONFLICT', true]);
    wire.close();
    await agent.shutdown(1000);

    // Once the driver has cleaned up, the same request id spawns: the CONFLICT was not recorded.
    agent = await start(backend);
    wire = new WireClient(`unix://${socket}`);
    cleanups.push(() => agent.shutdown(1000), () => wire.close());
    expect((await wire.call('spawn', request)).ok).toBe(true);
    expect((await backend.getInfo(x.uuid)).powerState).toBe('RUNNING');
  });
});
