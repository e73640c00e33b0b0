import { isDriverError, type Vif } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'attach-interface-twice-succeeds',
  bug: 'attachInterface of an interface id already attached succeeds (replaces it) instead of raising INTERFACE_ALREADY_ATTACHED.',
  caughtBy: ['P-MODEL-SEQUENCES'],
  create: () =>
    mutate({}, (inner) => ({
      attachInterface: async (uuid: string, vif: Vif) => {
        try {
          await inner.attachInterface(uuid, vif);
        } catch (error) {
          if (isDriverError(error) && error.code === 'INTERFACE_ALREADY_ATTACHED') return;
          throw error;
        }
      },
    })),
};
