import type { InstanceSpec } from '@nova-common/core';
import { mutate, type Mutant } from './_mutant.js';

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export const mutant: Mutant = {
  id: 'metadata-escaped',
  bug: 'metadata values are stored XML-escaped and reported back escaped (escaping applied twice).',
  caughtBy: ['P-MODEL-SEQUENCES', 'P-LIST-OWNED'],
  create: () =>
    mutate({}, (inner) => ({
      spawn: (spec: InstanceSpec, options?: unknown) =>
        inner.spawn({ ...spec, metadata: Object.fromEntries(Object.entries(spec.metadata).map(([k, v]) => [k, escape(v)])) }, options as undefined),
    })),
};
