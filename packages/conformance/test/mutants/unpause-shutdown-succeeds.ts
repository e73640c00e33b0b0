import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'unpause-shutdown-succeeds',
  bug: 'unpause of a SHUTDOWN instance succeeds (treated as "not paused, nothing to do") instead of raising INVALID_STATE.',
  caughtBy: ['P-MODEL-SEQUENCES'],
  create: () =>
    mutate({}, (inner) => ({
      unpause: async (uuid: string, options?: unknown) => {
        const info = await inner.getInfo(uuid);
        if (info.powerState === 'SHUTDOWN') return;
        return inner.unpause(uuid, options as undefined);
      },
    })),
};
