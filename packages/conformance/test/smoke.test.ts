import { describe, expect, it } from 'vitest';
import { createReferenceDriver } from '@nova-common/core/testing';
import { runConformance } from '../src/index.js';

describe('smoke', () => {
  it('runs against the reference', async () => {
    const r = await runConformance({ driver: () => createReferenceDriver(), seed: 1 });
    for (const p of r.properties) console.log(p.id, p.status, p.reason ?? '', p.counterexample?.message ?? '');
    console.log(r.stats, r.durationMs);
    expect(r.summary.failed).toBe(0);
  });
});
