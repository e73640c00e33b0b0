import { isDriverError } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'info-unknown-nostate',
  bug: 'getInfo of an unknown instance reports NOSTATE instead of raising INSTANCE_NOT_FOUND.',
  caughtBy: ['P-INFO-UNKNOWN'],
  create: () =>
    mutate({}, (inner) => ({
      getInfo: async (uuid: string) => {
        try {
          return await inner.getInfo(uuid);
        } catch (error) {
          if (isDriverError(error) && error.code === 'INSTANCE_NOT_FOUND') {
            return { uuid, name: 'unknown', powerState: 'NOSTATE', mode: 'normal', node: 'reference-node-0', metadata: {}, volumes: [], interfaces: [] };
          }
          throw error;
        }
      },
    })),
};
