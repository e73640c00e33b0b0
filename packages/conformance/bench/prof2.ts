import { createReferenceDriver } from '@nova-common/core/testing';
import { runConformance } from '../src/index.js';
const r = await runConformance({ driver: () => createReferenceDriver(), seed: 5, only: ['P-MODEL-SEQUENCES'] });
console.log(r.properties[0]!.runs, r.properties[0]!.steps, r.stats);
