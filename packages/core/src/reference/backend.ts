import type { BackendWitness } from '../driver/manifest.js';
import type { LifecycleListener } from '../driver/compute-driver.js';
import { OPERATION_NAMES } from '../operations/registry.js';
import type { ReferenceDriverConfig } from './config.js';
import { createReferenceDriver, type ReferenceDriver } from './driver.js';

/**
 * A simulated backend that outlives the reference drivers connected to it, as a hypervisor
 * outlives the processes that drive it: every driver `createDriver` makes is a new object over
 * the same instances, snapshots and nodes, so a driver made after another one's cleanupHost
 * sees what it left (R-RESTART-SAME). `witness` reads the backend directly, as a driver's
 * conformance fixtures read theirs.
 */
export interface ReferenceBackend {
  /** A new, unconnected driver object over this backend. */
  createDriver(): ReferenceDriver;
  /** The backend's own view: every instance it holds, powered on when RUNNING or PAUSED. */
  readonly witness: BackendWitness;
}

const SIMULATIONS = ['simulateCrash', 'simulateGuestShutdown', 'simulateNoState'] as const;

/** A simulated backend for reference drivers made with `config` (see ReferenceBackend). */
export function createReferenceBackend(config: ReferenceDriverConfig = {}): ReferenceBackend {
  const store = createReferenceDriver(config);
  const forward = (name: string): ((...args: unknown[]) => unknown) => {
    const method = (store as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
    return (...args) => method.apply(store, args);
  };
  return {
    createDriver(): ReferenceDriver {
      const driver: Record<string, unknown> = {};
      for (const name of [...OPERATION_NAMES, ...SIMULATIONS]) driver[name] = forward(name);
      driver.subscribeEvents = (listener: LifecycleListener) => store.subscribeEvents(listener);
      return driver as unknown as ReferenceDriver;
    },
    witness: {
      async listMachines() {
        const machines = [];
        for (const { uuid } of await store.listInstances()) {
          const { powerState } = await store.getInfo(uuid);
          machines.push({ uuid, running: powerState === 'RUNNING' || powerState === 'PAUSED' });
        }
        return machines;
      },
    },
  };
}
