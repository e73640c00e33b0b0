import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'undeclared-operation-noop',
  bug: 'pause and unpause are declared missing but silently do nothing instead of raising UNSUPPORTED.',
  caughtBy: ['P-UNSUPPORTED-operation.pause', 'P-UNSUPPORTED-operation.unpause'],
  create: () =>
    mutate({ disabledCapabilities: ['operation.pause', 'operation.unpause'] }, () => ({
      pause: async () => undefined,
      unpause: async () => undefined,
    })),
};
