import type { InstanceSpec } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'spawn-power-on-false-runs',
  bug: 'spawn ignores powerOn=false and starts the instance.',
  caughtBy: ['P-MODEL-SEQUENCES'],
  create: () => mutate({}, (inner) => ({ spawn: (spec: InstanceSpec, options?: unknown) => inner.spawn({ ...spec, powerOn: true }, options as undefined) })),
};
