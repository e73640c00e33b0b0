import { errors, expectedUsage, type ComputeDriver, type HostInventory, type InstanceInfo, type InstanceSpec, type InstanceSummary } from '@nova-common/core';
import { createReferenceBackend } from '@nova-common/core/testing';
import type { Mutant } from './_mutant.js';

// The simulated backend outlives every driver object, as a hypervisor does.
const backend = createReferenceBackend();
/** The driver's own records: the usage of each instance it spawned, and the instances destroy forgot (their machines still run). */
const usage = new Map<string, Record<string, number>>();
const forgotten = new Set<string>();

export const mutant: Mutant = {
  id: 'destroy-forgets-machine',
  bug: 'destroy drops the instance from the driver\'s records (list, info, inventory) but never kills its machine: the backend keeps it running, unreported; only a look at the backend shows it.',
  caughtBy: ['P-BACKEND-WITNESS'],
  options: { witness: backend.witness },
  create: (): ComputeDriver => {
    const inner = backend.createDriver();
    const known = (uuid: string): boolean => !forgotten.has(uuid.toLowerCase());
    // Every call naming a forgotten instance finds no record of it.
    const recorded: Record<string, unknown> = {};
    for (const [name, method] of Object.entries(inner)) {
      recorded[name] = (...args: unknown[]) => {
        if (typeof args[0] === 'string' && !known(args[0])) return Promise.reject(errors.notFound(args[0], name));
        return (method as (...a: unknown[]) => unknown)(...args);
      };
    }
    return {
      ...(recorded as unknown as ComputeDriver),
      // A new driver process sweeps what an earlier one forgot: the leak lasts until then.
      initHost: async (): Promise<void> => {
        for (const uuid of forgotten) await inner.destroy(uuid);
        forgotten.clear();
      },
      listInstances: async (): Promise<InstanceSummary[]> => (await inner.listInstances()).filter((s) => known(s.uuid)),
      getInfo: async (uuid: string): Promise<InstanceInfo> => {
        if (!known(uuid)) throw errors.notFound(uuid);
        return inner.getInfo(uuid);
      },
      getInventory: async (): Promise<HostInventory> => {
        const inventory = await inner.getInventory();
        const node = inventory.nodes[0]!;
        for (const uuid of forgotten) for (const [cls, n] of Object.entries(usage.get(uuid) ?? {})) if (node.resources[cls]) node.resources[cls].used -= n;
        return inventory;
      },
      spawn: async (spec: InstanceSpec, options?: never): Promise<void> => {
        // A spawn reusing a forgotten uuid replaces the stale machine it finds under that uuid.
        if (forgotten.delete(spec.uuid.toLowerCase())) await inner.destroy(spec.uuid);
        await inner.spawn(spec, options);
        usage.set(spec.uuid.toLowerCase(), expectedUsage(spec.flavor));
      },
      destroy: async (uuid: string): Promise<void> => {
        const present = (await inner.listInstances()).some((s) => s.uuid.toLowerCase() === uuid.toLowerCase());
        if (present && known(uuid)) forgotten.add(uuid.toLowerCase());
      },
    };
  },
};
