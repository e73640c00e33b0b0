import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'power-off-ignores-abort',
  bug: 'powerOff with a graceful period waits it out for a guest that does not answer, without looking at its signal: a cancelled power-off holds the instance for the whole period (the suite never cancelling a call, nothing shows).',
  caughtBy: ['P-CANCEL'],
  create: () =>
    mutate({}, (inner) => ({
      powerOff: async (uuid: string, options?: { gracefulTimeoutMs?: number }) => {
        const wait = options?.gracefulTimeoutMs ?? 0;
        // The graceful period, slept through whatever the signal says.
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        return inner.powerOff(uuid, { gracefulTimeoutMs: 0 });
      },
    })),
};
