import type { InstanceInfo } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'info-invalid-power-state',
  bug: "getInfo of a paused instance reports the backend's own word for it ('paused'), which is no power state of the contract.",
  caughtBy: ['P-MODEL-SEQUENCES'],
  create: () =>
    mutate({}, (inner) => ({
      getInfo: async (uuid: string, options?: unknown) => {
        const info = await inner.getInfo(uuid, options as undefined);
        return (info.powerState === 'PAUSED' ? { ...info, powerState: 'paused' } : info) as InstanceInfo;
      },
    })),
};
