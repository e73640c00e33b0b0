import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'power-on-running-toggles',
  bug: 'powerOn presses the power button: on a RUNNING instance it powers it off instead of doing nothing.',
  caughtBy: ['P-MODEL-SEQUENCES', 'P-IDEMPOTENT-REPEAT'],
  create: () =>
    mutate({}, (inner) => ({
      powerOn: async (uuid: string, options?: unknown) => {
        const info = await inner.getInfo(uuid);
        if (info.powerState === 'RUNNING') return inner.powerOff(uuid, { gracefulTimeoutMs: 0 });
        return inner.powerOn(uuid, options as undefined);
      },
    })),
};
