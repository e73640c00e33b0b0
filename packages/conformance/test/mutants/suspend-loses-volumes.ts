import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'suspend-loses-volumes',
  bug: 'suspend saves the guest without its volume attachments, so they are gone afterwards.',
  caughtBy: ['P-MODEL-SEQUENCES'],
  create: () =>
    mutate({}, (inner) => ({
      suspend: async (uuid: string, options?: unknown) => {
        const info = await inner.getInfo(uuid);
        if (info.powerState === 'RUNNING') for (const v of info.volumes) await inner.detachVolume(uuid, v.volumeId);
        return inner.suspend(uuid, options as undefined);
      },
    })),
};
