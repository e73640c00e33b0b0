import { mutate, type Mutant } from './_mutant.js';
import { errors } from '@nova-common/core';

export const mutant: Mutant = {
  id: 'suspend-twice-fails',
  bug: 'suspend of an already SUSPENDED instance raises INVALID_STATE instead of succeeding without change.',
  caughtBy: ['P-IDEMPOTENT-REPEAT', 'P-MODEL-SEQUENCES'],
  create: () =>
    mutate({}, (inner) => ({
      suspend: async (uuid: string, options?: unknown) => {
        const info = await inner.getInfo(uuid);
        if (info.powerState === 'SUSPENDED') throw errors.invalidState(uuid, 'SUSPENDED', 'suspend');
        return inner.suspend(uuid, options as undefined);
      },
    })),
};
