import { createReferenceDriver } from '@nova-common/core/testing';
import { runConformance } from '../src/index.js';
const t = performance.now();
const r = await runConformance({ driver: () => createReferenceDriver(), seed: 1, runs: Number(process.env.RUNS ?? 50), steps: 50, only: ['P-MODEL-SEQUENCES','P-IDEMPOTENT-REPEAT','P-INFO-UNKNOWN','P-LIST-OWNED','P-INVENTORY','P-EVENTS','P-SPAWN-ATOMIC','P-TEARDOWN-CLEAN'] });
console.log(r.summary, r.stats, performance.now() - t, (r.stats!.steps / r.stats!.modelMs * 1000).toFixed(0), 'steps/s');
for (const p of r.properties) if (p.status==='failed') console.log(p.id, p.counterexample?.message);
