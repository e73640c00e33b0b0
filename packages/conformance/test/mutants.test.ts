import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runConformance } from '../src/index.js';
import type { Mutant } from './mutants/_mutant.js';

const dir = new URL('./mutants/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.startsWith('_'));
const mutants: Mutant[] = await Promise.all(files.map(async (f) => ((await import(`./mutants/${f}`)) as { mutant: Mutant }).mutant));

// Each mutant is run with the DEFAULT run (default runs, steps, instances), on two seeds.
const SEEDS = [20240601, 7];

describe('the default run catches every planted bug, with a shrunk counterexample', () => {
  it('has at least 22 mutants, each in its own file', () => {
    expect(mutants.length).toBeGreaterThanOrEqual(22);
    expect(new Set(mutants.map((m) => m.id)).size).toBe(mutants.length);
    for (const m of mutants) expect(files).toContain(`${m.id}.ts`);
  });

  for (const m of mutants) {
    for (const seed of SEEDS) {
      it(`${m.id} (seed ${seed}): ${m.bug}`, async () => {
        const result = await runConformance({ driver: m.create, seed, name: m.id, ...m.options });
        const failed = result.properties.filter((p) => p.status === 'failed');
        const hit = failed.find((p) => m.caughtBy.includes(p.id));
        expect(hit, `expected one of ${m.caughtBy.join(', ')} to fail; failed: ${failed.map((p) => `${p.id} (${p.counterexample?.message})`).join('; ') || 'none'}`).toBeDefined();
        const cx = hit!.counterexample!;
        expect(cx.seed).toBe(seed);
        expect(cx.rule).toMatch(/^R-[A-Z0-9-]+$/);
        expect(cx.message.length).toBeGreaterThan(0);
        // Shrunk: a handful of steps, ending with the one that failed.
        expect(cx.steps.length).toBeGreaterThan(0);
        expect(cx.steps.length).toBeLessThanOrEqual(6);
        expect(cx.program).toContain('await driver.initHost();');
        expect(cx.program).toContain(hit!.id);
        expect(result.summary.failed).toBeGreaterThan(0);
      });
    }
  }
});
