import { OPERATION_NAMES, OPERATIONS } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'concurrent-power-off-hits-sibling',
  bug: 'the driver keeps the instance it looked up last in one field shared by all calls, and powerOff reads it again after its graceful wait: a call on a sibling made meanwhile makes the power-off stop the sibling instead (one call at a time nothing shows).',
  caughtBy: ['P-CONCURRENT-INSTANCES'],
  create: () =>
    mutate({}, (inner) => {
      let current: string | undefined;
      const overrides: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
      for (const op of OPERATION_NAMES) {
        const first = OPERATIONS[op].args[0] as { role?: string } | undefined;
        if (first?.role !== 'instance') continue;
        overrides[op] = async (uuid: unknown, ...rest: unknown[]) => {
          current = uuid as string;
          return (inner[op] as (...a: unknown[]) => unknown).call(inner, uuid, ...rest);
        };
      }
      overrides.powerOff = async (uuid: unknown, options: unknown) => {
        current = uuid as string;
        // The graceful wait, however short: other calls run meanwhile.
        await new Promise((resolve) => setTimeout(resolve, 1));
        return inner.powerOff(current, options as { gracefulTimeoutMs?: number });
      };
      return overrides;
    }),
};
