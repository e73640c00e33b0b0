import { isDriverError } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'detach-unattached-volume-succeeds',
  bug: 'detachVolume of a volume that is not attached succeeds instead of raising VOLUME_NOT_ATTACHED.',
  caughtBy: ['P-MODEL-SEQUENCES'],
  create: () =>
    mutate({}, (inner) => ({
      detachVolume: async (uuid: string, volumeId: string) => {
        try {
          await inner.detachVolume(uuid, volumeId);
        } catch (error) {
          if (isDriverError(error) && error.code === 'VOLUME_NOT_ATTACHED') return;
          throw error;
        }
      },
    })),
};
