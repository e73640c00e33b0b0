import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'subscribe-events-throws',
  bug: 'event.lifecycle is declared but subscribeEvents throws (the event stream was never opened).',
  caughtBy: ['P-EVENTS'],
  create: () =>
    mutate({}, () => ({
      subscribeEvents: () => {
        throw new Error('event stream not connected');
      },
    })),
};
