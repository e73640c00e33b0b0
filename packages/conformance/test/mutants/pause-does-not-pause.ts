import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'pause-does-not-pause',
  bug: 'pause returns success but the guest keeps running (the backend call was never awaited).',
  caughtBy: ['P-MODEL-SEQUENCES', 'P-IDEMPOTENT-REPEAT', 'P-EVENTS'],
  create: () =>
    mutate({}, (inner) => ({
      pause: async (uuid: string) => {
        await inner.getInfo(uuid); // still raises INSTANCE_NOT_FOUND for unknown instances
      },
    })),
};
