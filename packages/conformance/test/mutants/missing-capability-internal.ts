import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'missing-capability-internal',
  bug: 'rescue is declared missing, but rescue/unrescue throw a plain Error (INTERNAL) instead of UNSUPPORTED.',
  caughtBy: ['P-UNSUPPORTED-operation.rescue'],
  create: () =>
    mutate({ disabledCapabilities: ['operation.rescue'] }, () => ({
      rescue: async () => {
        throw new Error('not implemented');
      },
      unrescue: async () => {
        throw new Error('not implemented');
      },
    })),
};
