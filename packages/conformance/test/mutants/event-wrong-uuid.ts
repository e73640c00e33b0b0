import type { LifecycleListener } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'event-wrong-uuid',
  bug: "lifecycle events carry the backend's domain uuid, not the instance uuid.",
  caughtBy: ['P-EVENTS'],
  create: () =>
    mutate({}, (inner) => ({
      subscribeEvents: (listener: LifecycleListener) =>
        inner.subscribeEvents((event) => listener({ ...event, uuid: `${event.uuid.slice(0, -4)}${event.uuid.slice(-4) === 'beef' ? 'feed' : 'beef'}` })),
    })),
};
