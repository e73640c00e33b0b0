import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { guard, InstanceSpecSchema, isDriverError, type InstanceSpecInput } from '@nova-common/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteDriver } from '../../src/client/remote-driver.js';
import { instanceSpecToProto } from '../../src/mapping/instance-spec.js';
import * as pb from '../../src/wire.js';
import { HoldingProxy } from '../helpers/holding-proxy.js';
import { BUSYBOX_IMAGE, containersLabelled, DOCKER_SOCKET, DOCKER_VOLUME_ROOT, removeOwnedNetworks, requireDockerd, servePackage, type ServedPackage } from '../helpers/real-backends.js';
import { tempDir } from '../helpers/serve.js';
import { killAgent, restartAgent, typedError, until } from '../helpers/killable-agent.js';
import { WireClient } from '../helpers/wire-client.js';

const DRIVER = '@nova-common/driver-container';
const OWNER = 'agent-killed';
const START = /^POST \S*\/containers\/[^/\s]+\/start[ ?]/;
const REMOVE = /^DELETE \S*\/containers\/[^/\s?]+[ ?]/;

function bareSpec(): InstanceSpecInput {
  const uuid = randomUUID();
  return { uuid, name: `killed-${uuid.slice(0, 8)}`, flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 64, rootGb: 1 }, image: { id: BUSYBOX_IMAGE, diskFormat: 'raw', containerFormat: 'docker' } };
}

/** The engine's own view of an instance: its containers (any name, any state) labelled with its uuid. */
async function onEngine(uuid: string): Promise<{ name: string | undefined; state: string }[]> {
  const all = await containersLabelled(`io.nova-common.uuid=${uuid}`);
  return all.filter((c) => c.Labels['io.nova-common.owner'] === OWNER).map((c) => ({ name: c.Names[0], state: c.State }));
}

/**
 * The agent SIGKILLed while a call of driver-container is in flight on dockerd: the caller gets a
 * typed retryable error, and after a restart the retry with the same request id converges. The
 * request-id journal lives in --state-dir (fsync'd before the driver acts), so the restarted agent
 * knows the call was interrupted and runs it again; the driver's idempotency by uuid does the rest
 * (a spawn whose uuid exists answers INSTANCE_EXISTS, read as done once getInfo finds it; a
 * destroy of what is gone is a no-op). A proxy in front of the engine's socket holds the driver's
 * engine request, so the kill lands mid-call every time.
 *
 * The agent is the only user of its owner id, so its driver sweeps every unfinished spawn it
 * finds at start (spawnSweepAgeSeconds 0): what a killed spawn left goes before the retry comes.
 */
describe('the agent killed mid-call on dockerd (driver-container)', () => {
  const dir = tempDir('nova-agent-killed-');
  const proxy = new HoldingProxy(join(dir.dir, 'docker.sock'), DOCKER_SOCKET);
  const config = { socketPath: proxy.path, volumeRoot: DOCKER_VOLUME_ROOT, stateDir: `/tmp/nova-common/docker/agent-state/${OWNER}`, ownerId: OWNER, namePrefix: 'nck', stopTimeoutSeconds: 2, spawnSweepAgeSeconds: 0 };
  let served: ServedPackage;
  let wire: WireClient;

  beforeAll(async () => {
    await requireDockerd();
    await proxy.listen();
    served = await servePackage(DRIVER, config);
    wire = new WireClient(served.endpoint);
  });
  afterAll(async () => {
    wire?.close();
    await served?.close();
    await proxy.close();
    await removeOwnedNetworks(OWNER);
    dir.remove();
  });

  it('mid-spawn (container made, its start held): BACKEND_UNAVAILABLE, retryable; the retry with the same request id converges to one running instance', async () => {
    const s = InstanceSpecSchema.parse(bareSpec());
    const request = { requestId: randomUUID(), spec: instanceSpecToProto(s) };
    const held = proxy.holdNext(START);
    const call = wire.call('spawn', request, 60_000);
    await held;
    await killAgent(served);
    expect(typedError(await call, 'spawn')).toStrictEqual({ grpc: status.UNAVAILABLE, detail: undefined, code: 'BACKEND_UNAVAILABLE', retryable: true });
    (await held).drop();
    // Half made: the container exists under its spawning name and never started.
    expect(await onEngine(s.uuid)).toStrictEqual([{ name: `/nck-spawning-${s.uuid}`, state: 'created' }]);

    wire = await restartAgent(served, wire);
    const retried = await wire.call('spawn', request, 60_000);
    expect(retried.ok, JSON.stringify(!retried.ok && retried.error)).toBe(true);
    const info = await wire.call('getInfo', { uuid: s.uuid });
    expect(info.ok && (info.response as pb.GetInfoResponse).info?.powerState).toBe(pb.PowerState.RUNNING);
    expect(await onEngine(s.uuid)).toStrictEqual([{ name: `/nck-${s.uuid}`, state: 'running' }]);
    // Asked again, the request is answered from the journal: still one instance.
    expect((await wire.call('spawn', request, 60_000)).ok).toBe(true);
    expect(await onEngine(s.uuid)).toHaveLength(1);
    expect((await wire.call('destroy', { requestId: randomUUID(), uuid: s.uuid }, 60_000)).ok).toBe(true);
    expect(await onEngine(s.uuid)).toStrictEqual([]);
  });

  for (const engineActs of [true, false]) {
    it(`mid-destroy (removal held, then ${engineActs ? 'done by the engine after the agent died' : 'lost'}): BACKEND_UNAVAILABLE, retryable; the retry converges and nothing is left`, async () => {
      const s = InstanceSpecSchema.parse(bareSpec());
      expect((await wire.call('spawn', { requestId: randomUUID(), spec: instanceSpecToProto(s) }, 60_000)).ok).toBe(true);
      const request = { requestId: randomUUID(), uuid: s.uuid };
      const held = proxy.holdNext(REMOVE);
      const call = wire.call('destroy', request, 60_000);
      await held;
      await killAgent(served);
      expect(typedError(await call, 'destroy')).toStrictEqual({ grpc: status.UNAVAILABLE, detail: undefined, code: 'BACKEND_UNAVAILABLE', retryable: true });
      if (engineActs) {
        (await held).forward();
        await until(async () => (await onEngine(s.uuid)).length === 0);
      } else {
        (await held).drop();
        expect(await onEngine(s.uuid)).toHaveLength(1);
      }

      wire = await restartAgent(served, wire);
      const retried = await wire.call('destroy', request, 60_000);
      expect(retried.ok, JSON.stringify(!retried.ok && retried.error)).toBe(true);
      const info = await wire.call('getInfo', { uuid: s.uuid });
      expect(!info.ok && info.error?.code).toBe('INSTANCE_NOT_FOUND');
      expect(await onEngine(s.uuid)).toStrictEqual([]);
    });
  }

  it('the remote driver rides out the restart: its own retry (same request id) reaches the new agent and the spawn resolves, once', async () => {
    const s = bareSpec();
    const remote = guard(createRemoteDriver({ endpoint: served.endpoint, retry: { attempts: 8, baseDelayMs: 250, maxDelayMs: 2000 }, reconnectWaitMs: 60_000 }));
    await remote.initHost();
    try {
      const held = proxy.holdNext(START);
      const spawn = remote.spawn(s).then(
        () => 'OK',
        (e: unknown) => (isDriverError(e) ? e.code : String(e)),
      );
      await held;
      await killAgent(served);
      (await held).drop();
      wire = await restartAgent(served, wire);
      expect(await spawn).toBe('OK');
      expect((await remote.getInfo(s.uuid)).powerState).toBe('RUNNING');
      expect(await onEngine(s.uuid)).toStrictEqual([{ name: `/nck-${s.uuid}`, state: 'running' }]);
      await remote.destroy(s.uuid);
      expect(await onEngine(s.uuid)).toStrictEqual([]);
    } finally {
      await remote.cleanupHost();
    }
  });
});
