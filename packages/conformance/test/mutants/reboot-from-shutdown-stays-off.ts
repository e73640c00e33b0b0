import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'reboot-from-shutdown-stays-off',
  bug: 'reboot of a SHUTDOWN instance succeeds but leaves it SHUTDOWN (the backend only reboots running guests).',
  caughtBy: ['P-MODEL-SEQUENCES'],
  create: () =>
    mutate({}, (inner) => ({
      reboot: async (uuid: string, type: 'SOFT' | 'HARD', options?: unknown) => {
        const info = await inner.getInfo(uuid);
        if (info.powerState === 'SHUTDOWN') return;
        return inner.reboot(uuid, type, options as undefined);
      },
    })),
};
