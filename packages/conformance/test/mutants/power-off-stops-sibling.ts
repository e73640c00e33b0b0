import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'power-off-stops-sibling',
  bug: 'powerOff of one instance also powers off the other running instances (the stop is sent to the whole host group, not the one guest).',
  caughtBy: ['P-MODEL-SEQUENCES', 'P-IDEMPOTENT-REPEAT'],
  create: () =>
    mutate({}, (inner) => ({
      powerOff: async (uuid: string, options?: { gracefulTimeoutMs?: number }) => {
        await inner.powerOff(uuid, options);
        for (const other of await inner.listInstances()) {
          if (other.uuid.toLowerCase() === uuid.toLowerCase()) continue;
          const info = await inner.getInfo(other.uuid);
          if (info.powerState === 'RUNNING' && info.mode === 'normal') await inner.powerOff(other.uuid, { gracefulTimeoutMs: 0 });
        }
      },
    })),
};
