import { isDriverError, type InstanceInfo } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'extend-volume-shrinks',
  bug: 'extendVolume to a size smaller than the volume accepts it and reports the smaller size (volumes only grow: INVALID_INPUT naming newSizeGb).',
  caughtBy: ['P-MODEL-SEQUENCES', 'P-IDEMPOTENT-REPEAT'],
  create: () => {
    // Sizes the backend was told to shrink to, by instance and volume: what getInfo then reports.
    const shrunk = new Map<string, number>();
    const at = (uuid: string, volumeId: string): string => `${uuid.toLowerCase()}/${volumeId.toLowerCase()}`;
    return mutate({}, (inner) => ({
      extendVolume: async (uuid: string, volumeId: string, newSizeGb: number, options?: unknown) => {
        try {
          await inner.extendVolume(uuid, volumeId, newSizeGb, options as undefined);
          shrunk.delete(at(uuid, volumeId));
        } catch (error) {
          if (!isDriverError(error) || error.code !== 'INVALID_INPUT') throw error;
          shrunk.set(at(uuid, volumeId), newSizeGb);
        }
      },
      detachVolume: async (uuid: string, volumeId: string, options?: unknown) => {
        await inner.detachVolume(uuid, volumeId, options as undefined);
        shrunk.delete(at(uuid, volumeId));
      },
      destroy: async (uuid: string, options?: unknown) => {
        await inner.destroy(uuid, options as undefined);
        for (const k of [...shrunk.keys()]) if (k.startsWith(`${uuid.toLowerCase()}/`)) shrunk.delete(k);
      },
      getInfo: async (uuid: string, options?: unknown): Promise<InstanceInfo> => {
        const info = await inner.getInfo(uuid, options as undefined);
        return { ...info, volumes: info.volumes.map((v) => ({ ...v, sizeGb: shrunk.get(at(uuid, v.volumeId)) ?? v.sizeGb })) };
      },
    }));
  },
};
