import type { BackendHooks, GuardedDriver, LifecycleEvent } from '@nova-common/core';
import type { EngineClient } from '../../src/client/engine-client.js';
import type { ContainerDriverOptions } from '../../src/driver/context.js';
import { ContainerDriverConfigSchema, type ContainerDriverConfigInput } from '../../src/config.js';
import { containerConformanceFixtures } from '../../src/conformance-fixtures.js';
import { SOCKET, STATE_DIR, VOLUME_ROOT, makeVolumeFile, requireEngine, testDriver } from '../helpers.js';
import { PODMAN_SOCKET, PODMAN_STATE_DIR, PODMAN_VOLUME_ROOT, makePodmanVolumeFile, podmanDriver, requirePodman } from '../podman/helpers.js';

/** One engine the contract 1.1 scenarios run on: dockerd or podman's service, as the backend scripts start them. */
export interface TestEngine {
  readonly name: 'dockerd' | 'podman';
  /** A client on the engine; fails with the command to start it when it is not up. */
  require(): Promise<EngineClient>;
  /** The driver behind the guard, with the test settings (stop grace 2 s) and fault hooks when given. */
  driver(ownerId: string, extra?: ContainerDriverConfigInput, hooks?: ContainerDriverOptions): GuardedDriver;
  /** The driver's own backend hooks (src/backend-hooks.ts) for the same configuration, and how to close them. */
  hooks(ownerId: string): { backend: BackendHooks; close(): Promise<void> };
  /** A small file under the allowlisted volume root. */
  volumeFile(name: string): string;
  /** The driver's state directory in these tests. */
  readonly stateDir: string;
}

function hooksFor(config: ContainerDriverConfigInput): { backend: BackendHooks; close(): Promise<void> } {
  const fixtures = containerConformanceFixtures(ContainerDriverConfigSchema.parse(config));
  return { backend: fixtures.backend!, close: () => fixtures.cleanup!() };
}

export const DOCKERD: TestEngine = {
  name: 'dockerd',
  require: requireEngine,
  driver: (ownerId, extra = {}, hooks = {}) => testDriver(ownerId, extra, hooks),
  hooks: (ownerId) => hooksFor({ socketPath: SOCKET, volumeRoot: VOLUME_ROOT, stateDir: STATE_DIR, ownerId, stopTimeoutSeconds: 2 }),
  volumeFile: makeVolumeFile,
  stateDir: STATE_DIR,
};

export const PODMAN: TestEngine = {
  name: 'podman',
  require: requirePodman,
  driver: (ownerId, extra = {}, hooks = {}) => podmanDriver(ownerId, extra, hooks),
  hooks: (ownerId) => hooksFor({ socketPath: PODMAN_SOCKET, volumeRoot: PODMAN_VOLUME_ROOT, stateDir: PODMAN_STATE_DIR, ownerId, stopTimeoutSeconds: 2 }),
  volumeFile: makePodmanVolumeFile,
  stateDir: PODMAN_STATE_DIR,
};

/** Every event a driver delivers, with a way to wait for one. */
export class EventLog {
  readonly events: LifecycleEvent[] = [];
  private readonly unsubscribe: () => void;

  constructor(driver: GuardedDriver) {
    this.unsubscribe = driver.subscribeEvents((e) => this.events.push(e));
  }

  /** Where the log is now: `next` looks only at events after it. */
  mark(): number {
    return this.events.length;
  }

  /** The first event after `from` for `uuid` that `match` accepts, waiting at most `withinMs` (the driver's declared eventDeliveryMs). */
  async next(uuid: string, from: number, match: (e: LifecycleEvent) => boolean, withinMs: number): Promise<LifecycleEvent> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const found = this.events.slice(from).find((e) => e.uuid === uuid && match(e));
      if (found) return found;
      if (Date.now() > deadline) {
        const seen = this.events.slice(from).filter((e) => e.uuid === uuid).map((e) => `${e.kind}/${e.powerState}/${e.cause}`);
        throw new Error(`no matching event for ${uuid} within ${withinMs} ms; saw ${seen.join(', ') || 'none'}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The events after `from` for `uuid`, as kind/powerState/cause. */
  of(uuid: string, from = 0): string[] {
    return this.events.slice(from).filter((e) => e.uuid === uuid).map((e) => `${e.kind}/${e.powerState}/${e.cause}`);
  }

  close(): void {
    this.unsubscribe();
  }
}

/** Resolve with the promise, or fail once `ms` (a contract bound for the call) has passed. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Wait until the instance's console shows `text` (the image's init is up and has its signal handlers). */
export async function waitForConsole(driver: GuardedDriver, uuid: string, text: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await driver.getConsoleOutput(uuid)).output.includes(text)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`console of ${uuid} never showed ${JSON.stringify(text)}`);
}

/** Remove what an earlier, interrupted run of a scenario left under this driver's owner: instances and snapshots. */
export async function clearOwner(driver: GuardedDriver): Promise<void> {
  for (const i of await driver.listInstances()) await driver.destroy(i.uuid);
  for (const s of await driver.listSnapshots()) await driver.deleteSnapshot(s.imageId);
}
