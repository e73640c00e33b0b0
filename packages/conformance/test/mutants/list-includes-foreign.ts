import { mutate, type Mutant } from './_mutant.js';

export const mutant: Mutant = {
  id: 'list-includes-foreign',
  bug: 'listInstances lists every domain on the host, including the helper domain rescue creates, which the driver does not own as an instance.',
  caughtBy: ['P-LIST-OWNED'],
  create: () =>
    mutate({}, (inner) => ({
      listInstances: async () => {
        const list = await inner.listInstances();
        const extra = [];
        for (const s of list) {
          const info = await inner.getInfo(s.uuid);
          if (info.mode === 'rescue') {
            // The rescue domain: same uuid with the last hex digit changed.
            const last = s.uuid.at(-1) === '0' ? '1' : '0';
            extra.push({ ...s, uuid: s.uuid.slice(0, -1) + last, name: `${s.name}-rescue`, metadata: {} });
          }
        }
        return [...list, ...extra];
      },
    })),
};
