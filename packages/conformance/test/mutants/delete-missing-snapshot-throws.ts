import { errors } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'delete-missing-snapshot-throws',
  bug: 'deleteSnapshot of an image that is already gone raises instead of succeeding.',
  caughtBy: ['P-MODEL-SEQUENCES', 'P-IDEMPOTENT-REPEAT'],
  create: () =>
    mutate({}, (inner) => ({
      deleteSnapshot: async (imageId: string, options?: unknown) => {
        if (!(await inner.listSnapshots()).some((s) => s.imageId === imageId)) throw errors.invalidInput([{ path: ['imageId'], message: 'no such image' }], 'deleteSnapshot');
        return inner.deleteSnapshot(imageId, options as undefined);
      },
    })),
};
