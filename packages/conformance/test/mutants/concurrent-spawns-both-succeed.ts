import { OPERATION_NAMES, type InstanceSpec } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'concurrent-spawns-both-succeed',
  bug: 'spawn looks the uuid up in a cache of known instances that only the other calls refresh, and clears a uuid it does not know as a leftover before creating it: two spawns of one uuid in a row both succeed (one call at a time, the second must get INSTANCE_EXISTS).',
  caughtBy: ['P-CONCURRENT-CALLS'],
  create: () =>
    mutate({}, (inner) => {
      const known = new Set<string>();
      const refresh = async (): Promise<void> => {
        known.clear();
        for (const s of await inner.listInstances()) known.add(s.uuid.toLowerCase());
      };
      const overrides: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
      for (const op of OPERATION_NAMES) {
        if (op === 'spawn' || op === 'initHost' || op === 'cleanupHost' || op === 'getCapabilities') continue;
        overrides[op] = async (...args: unknown[]) => {
          await refresh();
          return (inner[op] as (...a: unknown[]) => unknown).apply(inner, args);
        };
      }
      overrides.spawn = async (spec: unknown) => {
        const s = spec as InstanceSpec;
        // A uuid the cache does not know is taken for a leftover of a failed spawn: cleared first.
        if (!known.has(s.uuid.toLowerCase())) await inner.destroy(s.uuid);
        return inner.spawn(s);
      };
      return overrides;
    }),
};
