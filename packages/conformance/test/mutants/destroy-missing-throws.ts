import { errors } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'destroy-missing-throws',
  bug: 'destroy of an instance that does not exist raises INSTANCE_NOT_FOUND instead of succeeding.',
  caughtBy: ['P-MODEL-SEQUENCES', 'P-IDEMPOTENT-REPEAT'],
  create: () =>
    mutate({}, (inner) => ({
      destroy: async (uuid: string, options?: unknown) => {
        if (!(await inner.listInstances()).some((s) => s.uuid.toLowerCase() === uuid.toLowerCase())) throw errors.notFound(uuid, 'destroy');
        return inner.destroy(uuid, options as undefined);
      },
    })),
};
