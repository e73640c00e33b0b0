import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'list-uuid-braced',
  bug: 'listInstances writes each uuid in braces ("{…}"): the empty host\'s list is valid, every later one is invalid output, also where a property reads the list outside a judged step (which must fail that property, never break the run).',
  caughtBy: ['P-LIST-OWNED', 'P-MODEL-SEQUENCES'],
  create: () =>
    mutate({}, (inner) => ({
      listInstances: async () => (await inner.listInstances()).map((s) => ({ ...s, uuid: `{${s.uuid}}` })),
    })),
};
