import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'extend-volume-ignores-size',
  bug: 'extendVolume succeeds but the guest still sees the old size (the block resize call was skipped).',
  caughtBy: ['P-MODEL-SEQUENCES'],
  create: () =>
    mutate({}, (inner) => ({
      extendVolume: async (uuid: string, volumeId: string, newSizeGb: number, options?: unknown) => {
        const before = (await inner.getInfo(uuid)).volumes.find((v) => v.volumeId.toLowerCase() === volumeId.toLowerCase());
        if (before?.sizeGb === undefined) return inner.extendVolume(uuid, volumeId, newSizeGb, options as undefined);
        return inner.extendVolume(uuid, volumeId, before.sizeGb, options as undefined);
      },
    })),
};
