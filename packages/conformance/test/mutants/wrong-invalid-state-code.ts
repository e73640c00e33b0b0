import { DriverError, isDriverError } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'wrong-invalid-state-code',
  bug: "resume in a state it does not accept raises INTERNAL (the backend's generic error passed through) instead of INVALID_STATE.",
  caughtBy: ['P-MODEL-SEQUENCES', 'P-IDEMPOTENT-REPEAT'],
  create: () =>
    mutate({}, (inner) => ({
      resume: async (uuid: string, options?: unknown) => {
        try {
          await inner.resume(uuid, options as undefined);
        } catch (error) {
          if (isDriverError(error) && error.code === 'INVALID_STATE') throw new DriverError('INTERNAL', { op: 'resume', target: uuid, detail: 'Requested operation is not valid' });
          throw error;
        }
      },
    })),
};
