import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'destroy-paused-noop',
  bug: 'destroy of a PAUSED instance reports success but leaves it (the backend refuses to remove a paused container without force).',
  caughtBy: ['P-MODEL-SEQUENCES', 'P-LIST-OWNED', 'P-TEARDOWN-CLEAN'],
  create: () =>
    mutate({}, (inner) => ({
      destroy: async (uuid: string, options?: unknown) => {
        const live = (await inner.listInstances()).some((s) => s.uuid.toLowerCase() === uuid.toLowerCase());
        if (live && (await inner.getInfo(uuid)).powerState === 'PAUSED') return;
        return inner.destroy(uuid, options as undefined);
      },
    })),
};
