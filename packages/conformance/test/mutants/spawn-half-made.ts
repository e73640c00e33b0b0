import { isDriverError, type InstanceSpec } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'spawn-half-made',
  bug: 'spawn defines the instance before checking capacity and does not roll it back when placement fails.',
  caughtBy: ['P-SPAWN-ATOMIC'],
  create: () =>
    mutate({}, (inner) => ({
      spawn: async (spec: InstanceSpec, options?: unknown) => {
        try {
          await inner.spawn(spec, options as undefined);
        } catch (error) {
          if (isDriverError(error) && error.code === 'INSUFFICIENT_RESOURCES') {
            // The half-made definition: the same uuid, defined but never started.
            await inner.spawn({ ...spec, flavor: { ...spec.flavor, vcpus: 1, memoryMb: 64, rootGb: 0 }, powerOn: false });
          }
          throw error;
        }
      },
    })),
};
