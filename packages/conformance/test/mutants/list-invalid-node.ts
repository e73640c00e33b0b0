import type { InstanceSummary } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'list-invalid-node',
  bug: 'listInstances reports a stopped instance without its node (the backend has no host for a stopped guest): invalid output, refused by the guard.',
  caughtBy: ['P-LIST-OWNED'],
  create: () =>
    mutate({}, (inner) => ({
      listInstances: async () => {
        const out: InstanceSummary[] = [];
        for (const s of await inner.listInstances()) {
          const stopped = (await inner.getInfo(s.uuid)).powerState === 'SHUTDOWN';
          out.push(stopped ? ({ ...s, node: undefined } as unknown as InstanceSummary) : s);
        }
        return out;
      },
    })),
};
