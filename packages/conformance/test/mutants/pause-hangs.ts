import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'pause-hangs',
  bug: 'pause on a running instance never answers and never looks at its signal, as a driver waiting on a backend that lost the request: only the timeout catches it, and without the hang breaker every later pause (each shrink candidate, each property) waited the whole timeout again.',
  caughtBy: ['P-MODEL-SEQUENCES', 'P-IDEMPOTENT-REPEAT'],
  create: () =>
    mutate({}, (inner) => ({
      pause: async (uuid: string) => {
        const info = await inner.getInfo(uuid).catch(() => undefined);
        if (info?.powerState === 'RUNNING') return new Promise<never>(() => {});
        return inner.pause(uuid);
      },
    })),
  // pause's own 30 s timeout, cut to 2 s: the breaker's behaviour is the same at any full
  // timeout, and the mutant set runs on every CI run.
  options: { guard: { timeouts: { pause: 2_000 } } },
};
