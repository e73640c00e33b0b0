import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { guard, type GuardedDriver, type InstanceSpecInput } from '@nova-common/core';
import { EngineClient } from '../src/client/engine-client.js';
import type { ContainerDriverOptions } from '../src/driver/context.js';
import { createContainerDriver, type ContainerDriver } from '../src/driver/driver.js';
import type { ContainerDriverConfigInput } from '../src/config.js';

export const SOCKET = process.env['DOCKER_SOCKET'] ?? '/var/run/docker.sock';
export const BASE_IMAGE = 'nova-common/busybox:latest';
export const NOTERM_IMAGE = 'nova-common/busybox-noterm:latest';
export const VOLUME_ROOT = '/tmp/nova-common/docker/volumes';
/** Where the test drivers record the stops they asked for. */
export const STATE_DIR = '/tmp/nova-common/docker/driver-state';
export const SCRIPT = path.resolve(import.meta.dirname, '../../../scripts/backends/docker.sh');

const run = promisify(execFile);

/** Fails loudly when the engine or the test images are missing: these tests need a real dockerd. */
export async function requireEngine(): Promise<EngineClient> {
  const client = new EngineClient({ socketPath: SOCKET });
  try {
    await client.negotiate();
    await client.inspectImage(BASE_IMAGE);
    await client.inspectImage(NOTERM_IMAGE);
  } catch (err) {
    await client.close();
    throw new Error(
      `driver-container integration tests need a running Docker Engine on ${SOCKET} with the test images; ` +
        `run 'scripts/backends/docker.sh install && scripts/backends/docker.sh start' first. Cause: ${(err as Error).message}`,
    );
  }
  mkdirSync(VOLUME_ROOT, { recursive: true });
  return client;
}

/** The raw driver on the test engine, for the suites that put it behind the guard themselves (conformance, differential). */
export function rawTestDriver(ownerId: string, extra: ContainerDriverConfigInput = {}, hooks: ContainerDriverOptions = {}): ContainerDriver {
  return createContainerDriver({ socketPath: SOCKET, volumeRoot: VOLUME_ROOT, stateDir: STATE_DIR, ownerId, stopTimeoutSeconds: 2, ...extra }, hooks);
}

/** The driver on the test engine as every consumer uses it: behind the guard. */
export function testDriver(ownerId: string, extra: ContainerDriverConfigInput = {}, hooks: ContainerDriverOptions = {}): GuardedDriver {
  return guard(rawTestDriver(ownerId, extra, hooks));
}

export function makeVolumeFile(name: string): string {
  const p = path.join(VOLUME_ROOT, name);
  writeFileSync(p, Buffer.alloc(4096));
  return p;
}

export function spec(uuid: string, overrides: Partial<InstanceSpecInput> = {}): InstanceSpecInput {
  return {
    uuid,
    name: `test-${uuid.slice(0, 8)}`,
    flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 64, rootGb: 1 },
    image: { id: BASE_IMAGE, diskFormat: 'raw', containerFormat: 'docker' },
    ...overrides,
  };
}

export async function dockerScript(cmd: 'start' | 'stop'): Promise<void> {
  await run('bash', [SCRIPT, cmd], { timeout: 120_000 });
}

export function uuidv4(): string {
  return crypto.randomUUID();
}

/** Generated specs use image ids the engine does not have: run them all on the local base image. */
export function adaptSpec(spec: InstanceSpecInput): InstanceSpecInput {
  return { ...spec, image: { ...spec.image, id: BASE_IMAGE } };
}

/** A generated volume id becomes a real file under the allowlisted root. */
export function volumeConnection(volumeId: string) {
  const p = path.join(VOLUME_ROOT, `conformance-${volumeId}.img`);
  writeFileSync(p, Buffer.alloc(4096));
  return { driverVolumeType: 'file' as const, path: p };
}

export const images = [{ id: BASE_IMAGE, name: 'busybox', diskFormat: 'raw' as const, containerFormat: 'docker' as const }];
