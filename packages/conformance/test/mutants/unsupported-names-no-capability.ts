import { DriverError } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

const refuse = (op: string) => async (): Promise<never> => {
  throw new DriverError('UNSUPPORTED', { op, detail: 'not available on this backend' });
};

export const mutant: Mutant = {
  id: 'unsupported-names-no-capability',
  bug: 'rescue is declared missing and rescue/unrescue raise UNSUPPORTED, but without naming the capability (the caller cannot tell what is missing).',
  caughtBy: ['P-UNSUPPORTED-operation.rescue'],
  create: () => mutate({ disabledCapabilities: ['operation.rescue'] }, () => ({ rescue: refuse('rescue'), unrescue: refuse('unrescue') })),
};
