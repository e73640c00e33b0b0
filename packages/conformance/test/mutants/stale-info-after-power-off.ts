import type { InstanceInfo } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'stale-info-after-power-off',
  bug: 'getInfo answers from a cache that powerOff forgets to invalidate, so it reports the state from before.',
  caughtBy: ['P-MODEL-SEQUENCES', 'P-IDEMPOTENT-REPEAT'],
  create: () => {
    const cache = new Map<string, InstanceInfo>();
    const forget = <A extends unknown[], R>(fn: (uuid: string, ...a: A) => Promise<R>) => async (uuid: string, ...a: A): Promise<R> => {
      cache.delete(uuid.toLowerCase());
      return fn(uuid, ...a);
    };
    return mutate({}, (inner) => ({
      getInfo: async (uuid: string) => {
        const hit = cache.get(uuid.toLowerCase());
        if (hit) return structuredClone(hit);
        const info = await inner.getInfo(uuid);
        cache.set(uuid.toLowerCase(), info);
        return structuredClone(info);
      },
      destroy: forget((u, o?: undefined) => inner.destroy(u, o)),
      powerOn: forget((u, o?: undefined) => inner.powerOn(u, o)),
      reboot: forget((u, t: 'SOFT' | 'HARD', o?: undefined) => inner.reboot(u, t, o)),
      pause: forget((u, o?: undefined) => inner.pause(u, o)),
      unpause: forget((u, o?: undefined) => inner.unpause(u, o)),
      suspend: forget((u, o?: undefined) => inner.suspend(u, o)),
      resume: forget((u, o?: undefined) => inner.resume(u, o)),
      rescue: forget((u, s: never, o?: undefined) => inner.rescue(u, s, o)),
      unrescue: forget((u, o?: undefined) => inner.unrescue(u, o)),
      rebuild: forget((u, s: never, o?: undefined) => inner.rebuild(u, s, o)),
      attachVolume: forget((u, a: never, o?: undefined) => inner.attachVolume(u, a, o)),
      detachVolume: forget((u, v: string, o?: undefined) => inner.detachVolume(u, v, o)),
      extendVolume: forget((u, v: string, n: number, o?: undefined) => inner.extendVolume(u, v, n, o)),
      attachInterface: forget((u, v: never, o?: undefined) => inner.attachInterface(u, v, o)),
      detachInterface: forget((u, v: string, o?: undefined) => inner.detachInterface(u, v, o)),
      // powerOff is the one that forgets to invalidate.
    }));
  },
};
