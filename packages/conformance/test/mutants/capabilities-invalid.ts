import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'capabilities-invalid',
  bug: 'the capability declaration gives one capability a level the contract does not have ("yes" for "complete"): the run cannot plan, and must say so as a failed property rather than break.',
  caughtBy: ['P-HOST-DESCRIPTION'],
  create: () =>
    mutate({}, (inner) => ({
      getCapabilities: async () => {
        const caps = await inner.getCapabilities();
        return { ...caps, capabilities: { ...caps.capabilities, 'operation.pause': { level: 'yes' } } };
      },
    })),
};
