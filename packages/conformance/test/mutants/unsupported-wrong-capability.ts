import { DriverError } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'unsupported-wrong-capability',
  bug: 'suspend and resume are declared missing; resume raises UNSUPPORTED naming operation.suspend (the other half of the pair, copied over).',
  caughtBy: ['P-UNSUPPORTED-operation.resume'],
  create: () =>
    mutate({ disabledCapabilities: ['operation.suspend', 'operation.resume'] }, () => ({
      resume: async () => {
        throw new DriverError('UNSUPPORTED', { op: 'resume', capability: 'operation.suspend' });
      },
    })),
};
