import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'spawn-undeclared-vif-type',
  bug: 'The driver declares it wires bridge VIFs only, yet spawn accepts a VIF of any other type (and wires it somehow) instead of refusing it as INVALID_INPUT naming its type.',
  caughtBy: ['P-SPAWN-ATOMIC'],
  create: () =>
    mutate({}, (inner) => ({
      getCapabilities: async () => ({ ...(await inner.getCapabilities()), vifTypes: ['bridge'] }),
    })),
};
