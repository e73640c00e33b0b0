import type { ComputeDriver, InstanceInfo, InstanceSpec, InstanceSummary } from '@nova-common/core';
import { errors } from '@nova-common/core';
import { createReferenceBackend } from '@nova-common/core/testing';
import type { Mutant } from './_mutant.js';

// The simulated backend outlives every driver object; the bug is in what each object remembers.
const backend = createReferenceBackend();

export const mutant: Mutant = {
  id: 'instances-in-memory',
  bug: 'the driver knows its instances only from a set in the driver object\'s memory: a new driver object (a restarted process) reports none of them.',
  caughtBy: ['P-RESTART'],
  options: { witness: backend.witness },
  create: (): ComputeDriver => {
    const inner = backend.createDriver();
    const mine = new Set<string>();
    return {
      ...inner,
      spawn: async (spec: InstanceSpec, options?: never): Promise<void> => {
        await inner.spawn(spec, options);
        mine.add(spec.uuid.toLowerCase());
      },
      listInstances: async (): Promise<InstanceSummary[]> => (await inner.listInstances()).filter((s) => mine.has(s.uuid.toLowerCase())),
      getInfo: async (uuid: string): Promise<InstanceInfo> => {
        if (!mine.has(uuid.toLowerCase())) throw errors.notFound(uuid);
        return inner.getInfo(uuid);
      },
    };
  },
};
