import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EngineClient } from '../../src/client/engine-client.js';
import { guard, type GuardedDriver } from '@nova-common/core';
import type { ContainerDriverOptions } from '../../src/driver/context.js';
import { createContainerDriver, type ContainerDriver } from '../../src/driver/driver.js';
import type { ContainerDriverConfigInput } from '../../src/config.js';
import { engineKindOf } from '../../src/mapping/engine-kind.js';
import { BASE_IMAGE, NOTERM_IMAGE } from '../helpers.js';

/** podman's Docker-compatible service, as scripts/backends/podman.sh starts it. */
export const PODMAN_SOCKET = process.env['PODMAN_SOCKET'] ?? '/run/nova-common/podman.sock';
export const PODMAN_VOLUME_ROOT = '/tmp/nova-common/podman/volumes';
export const PODMAN_STATE_DIR = '/tmp/nova-common/podman/driver-state';
export const PODMAN_SCRIPT = path.resolve(import.meta.dirname, '../../../../scripts/backends/podman.sh');

/** Fails loudly when podman's service or the test images are missing, or another engine answers there. */
export async function requirePodman(): Promise<EngineClient> {
  const client = new EngineClient({ socketPath: PODMAN_SOCKET });
  try {
    const version = await client.negotiate();
    if (engineKindOf(version) !== 'podman') {
      throw new Error(`the engine on ${PODMAN_SOCKET} is not podman (components: ${(version.Components ?? []).map((c) => c.Name).join(', ')})`);
    }
    await client.inspectImage(BASE_IMAGE);
    await client.inspectImage(NOTERM_IMAGE);
  } catch (err) {
    await client.close();
    throw new Error(
      `driver-container podman tests need podman's service on ${PODMAN_SOCKET} (env PODMAN_SOCKET) with the test images; ` +
        `run '${PODMAN_SCRIPT} install && ${PODMAN_SCRIPT} start' first. Cause: ${(err as Error).message}`,
    );
  }
  mkdirSync(PODMAN_VOLUME_ROOT, { recursive: true });
  return client;
}

/** The raw driver on podman, for the conformance suite (it puts the driver behind the guard itself). */
export function rawPodmanDriver(ownerId: string, extra: ContainerDriverConfigInput = {}, hooks: ContainerDriverOptions = {}): ContainerDriver {
  return createContainerDriver({ socketPath: PODMAN_SOCKET, volumeRoot: PODMAN_VOLUME_ROOT, stateDir: PODMAN_STATE_DIR, ownerId, stopTimeoutSeconds: 2, ...extra }, hooks);
}

/** The driver on podman behind the guard, as every consumer uses it. */
export function podmanDriver(ownerId: string, extra: ContainerDriverConfigInput = {}, hooks: ContainerDriverOptions = {}): GuardedDriver {
  return guard(rawPodmanDriver(ownerId, extra, hooks));
}

export function makePodmanVolumeFile(name: string): string {
  const p = path.join(PODMAN_VOLUME_ROOT, name);
  writeFileSync(p, Buffer.alloc(4096));
  return p;
}

/** A generated volume id becomes a real file under the allowlisted root. */
export function podmanVolumeConnection(volumeId: string) {
  return { driverVolumeType: 'file' as const, path: makePodmanVolumeFile(`conformance-${volumeId}.img`) };
}
