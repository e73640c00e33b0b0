import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'list-missing-shutdown',
  bug: 'listInstances reports only active domains, so SHUTDOWN instances are missing.',
  caughtBy: ['P-LIST-OWNED'],
  create: () =>
    mutate({}, (inner) => ({
      listInstances: async () => {
        const out = [];
        for (const s of await inner.listInstances()) if ((await inner.getInfo(s.uuid)).powerState !== 'SHUTDOWN') out.push(s);
        return out;
      },
    })),
};
