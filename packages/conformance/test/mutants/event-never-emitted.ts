import type { LifecycleListener } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'event-never-emitted',
  bug: 'the PAUSED lifecycle event is never emitted (the backend event is not mapped).',
  caughtBy: ['P-EVENTS'],
  create: () =>
    mutate({}, (inner) => ({
      subscribeEvents: (listener: LifecycleListener) =>
        inner.subscribeEvents((event) => {
          if (event.kind !== 'PAUSED') listener(event);
        }),
    })),
};
