// Catch rate of the mutants over several seeds (tuning aid): node --import tsx/esm bench/catch-rate.ts [runs] [steps] [seeds]
import { readdirSync } from 'node:fs';
import { runConformance } from '../src/index.js';
const runs = Number(process.argv[2] ?? 20), steps = Number(process.argv[3] ?? 25), nSeeds = Number(process.argv[4] ?? 4);
const files = readdirSync(new URL('../test/mutants/', import.meta.url)).filter((f) => !f.startsWith('_'));
let caught = 0, total = 0;
const misses: string[] = [];
for (const f of files) {
  const { mutant } = await import(`../test/mutants/${f}`);
  for (let s = 1; s <= nSeeds; s++) {
    const r = await runConformance({ driver: mutant.create, seed: s * 1000003, runs, steps });
    const hit = r.properties.some((p) => p.status === 'failed' && mutant.caughtBy.includes(p.id));
    total++;
    if (hit) caught++;
    else misses.push(`${mutant.id}@${s}`);
  }
}
console.log(`runs ${runs} steps ${steps}: caught ${caught}/${total}`, misses.join(' '));
