import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifest } from '@nova-common/driver-container';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_IMAGE, containersLabelled, DOCKER_SOCKET, DOCKER_VOLUME_ROOT, removeOwnedNetworks, requireDockerd, servePackage, type ServedPackage } from '../helpers/real-backends.js';
import { conformanceThroughAgent, divergenceOf, failuresOf, localVersusRemote } from '../helpers/remote-suite.js';

const DRIVER = '@nova-common/driver-container';
const STATE = '/tmp/nova-common/docker/agent-state';
/**
 * A short run on a real engine (each step is a few engine round trips): a few generated sequences,
 * without the table walk and the steering rounds, and no injected faults (those wrap the client,
 * the same code whatever serves the socket; the driver's own suite runs them in process).
 */
const SHORT = { runs: 3, steps: 10, walk: false, budget: '0steps', settleTimeoutMs: 500, hangTimeoutMs: 3000 } as const;
const MODEL_PROPERTIES = ['P-MODEL-SEQUENCES', 'P-IDEMPOTENT-REPEAT', 'P-INFO-UNKNOWN', 'P-LIST-OWNED', 'P-INVENTORY', 'P-EVENTS', 'P-SPAWN-ATOMIC', 'P-TEARDOWN-CLEAN', 'P-CONCURRENT-CALLS'];

/** The container driver's configuration on the test engine, one owner (and name prefix) per use. */
function dockerConfig(owner: string, namePrefix: string) {
  return { socketPath: DOCKER_SOCKET, volumeRoot: DOCKER_VOLUME_ROOT, stateDir: join(STATE, owner), ownerId: owner, namePrefix, stopTimeoutSeconds: 2 };
}

/** A generated volume id as a small real file under the volume root (the only place the driver takes bind mounts from). */
function volumeFile(volumeId: string) {
  const dir = join(DOCKER_VOLUME_ROOT, 'agent-differential');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${volumeId}.img`);
  writeFileSync(path, Buffer.alloc(4096));
  return { driverVolumeType: 'file' as const, path };
}

/**
 * @nova-common/driver-container served by a nova-agent process on a unix socket, on dockerd:
 * the conformance suite through the wire, and the driver in this process against the same
 * driver behind the agent in lockstep. A short run (a few sequences): the driver's own suite
 * runs the long one in process.
 */
describe('driver-container on dockerd through the agent', () => {
  const remoteConfig = dockerConfig('agent-remote', 'ncr');
  const localConfig = dockerConfig('agent-local', 'ncl');
  let served: ServedPackage;

  beforeAll(async () => {
    await requireDockerd();
    served = await servePackage(DRIVER, remoteConfig);
  });
  afterAll(async () => {
    await served?.close();
    for (const owner of ['agent-remote', 'agent-local']) await removeOwnedNetworks(owner);
  });

  it('passes the conformance suite through the wire, judged by the served driver’s own contract range', async () => {
    const result = await conformanceThroughAgent(served, DRIVER, remoteConfig, { ...SHORT, seed: 17, only: MODEL_PROPERTIES });
    expect(failuresOf(result)).toEqual([]);
    expect(result.properties.filter((p) => p.status === 'passed').map((p) => p.id).sort()).toEqual([...MODEL_PROPERTIES].sort());
    // The served driver's operations were called through the wire, not answered by the agent's gate.
    expect(result.capabilities.find((c) => c.id === 'operation.pause')?.status).toBe('complete');
  }, 600_000);

  it('the driver in this process and the same driver behind the agent answer alike, step by step (same seed)', async () => {
    const local = () => manifest.create(manifest.configSchema.parse(localConfig));
    const result = await localVersusRemote(local, served, {
      ...SHORT,
      seed: 29,
      adaptSpec: (s) => ({ ...s, image: { ...s.image, id: BUSYBOX_IMAGE } }),
      images: [{ id: BUSYBOX_IMAGE, name: 'busybox', diskFormat: 'raw', containerFormat: 'docker' }],
      volumeConnection: volumeFile,
    });
    expect(divergenceOf(result)).toBeUndefined();
    expect(result.steps).toBeGreaterThan(10);
  }, 600_000);

  it('left no container of its owners on the engine', async () => {
    for (const owner of ['agent-remote', 'agent-local']) {
      expect((await containersLabelled(`io.nova-common.owner=${owner}`)).map((c) => c.Names[0]), owner).toEqual([]);
    }
  });
});
