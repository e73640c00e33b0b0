import { DriverError, isDriverError } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

/** The driver's own error class for backend refusals, which marks every one of them retryable. */
class BackendRefusal extends DriverError {
  override readonly retryable: boolean = true;
}

export const mutant: Mutant = {
  id: 'invalid-state-retryable',
  bug: 'pause in a state it does not accept raises INVALID_STATE marked retryable (a caller would retry a call that can never succeed).',
  caughtBy: ['P-MODEL-SEQUENCES', 'P-IDEMPOTENT-REPEAT'],
  create: () =>
    mutate({}, (inner) => ({
      pause: async (uuid: string, options?: unknown) => {
        try {
          await inner.pause(uuid, options as undefined);
        } catch (error) {
          if (isDriverError(error) && error.code === 'INVALID_STATE') throw new BackendRefusal('INVALID_STATE', { ...error.toOptions(), op: 'pause' });
          throw error;
        }
      },
    })),
};
