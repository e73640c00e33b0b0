import type { RebuildSpec } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'rebuild-drops-interfaces',
  bug: 'rebuild re-creates the domain from the new image without its network interfaces.',
  caughtBy: ['P-MODEL-SEQUENCES'],
  create: () =>
    mutate({}, (inner) => ({
      rebuild: async (uuid: string, spec: RebuildSpec, options?: unknown) => {
        await inner.rebuild(uuid, spec, options as undefined);
        for (const i of (await inner.getInfo(uuid)).interfaces) await inner.detachInterface(uuid, i.id);
      },
    })),
};
