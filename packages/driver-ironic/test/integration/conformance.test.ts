/**
 * The conformance suite's default run against the real Ironic (fake hardware). Sequences are
 * the suite's default size (every step is a real Ironic round trip). NC_RUNS / NC_STEPS / NC_SEED resize the run.
 * Ironic must be running (scripts/backends/ironic.sh start): the suite fails loudly otherwise.
 */
import { afterAll } from 'vitest';
import { describeConformance } from '@nova-common/conformance/vitest';
import { IronicDriverConfigSchema } from '../../src/config.js';
import { ironicWitness } from '../../src/witness.js';
import { testDriver } from '../helpers/ironic-env.js';
import { adaptSpec, IMAGES } from '../helpers/specs.js';

// Ironic seen without the driver (nodes of the pool holding an instance): leaks and ghosts fail
// P-BACKEND-WITNESS; with it P-RESTART runs too.
const witness = ironicWitness(IronicDriverConfigSchema.parse({ endpoint: 'http://127.0.0.1:6385', nodeFilter: { resourceClass: 'baremetal' } }));
afterAll(async () => {
  await witness.close?.();
});

describeConformance('@nova-common/driver-ironic (Ironic 21.4, fake hardware)', () => testDriver('default'), {
  name: '@nova-common/driver-ironic',
  module: '@nova-common/driver-ironic',
  config: { endpoint: 'http://127.0.0.1:6385', nodeFilter: { resourceClass: 'baremetal' } },
  adaptSpec,
  images: IMAGES,
  witness,
  // The suite's default run size unless NC_RUNS / NC_STEPS say otherwise.
  ...(process.env.NC_RUNS ? { runs: Number(process.env.NC_RUNS) } : {}),
  ...(process.env.NC_STEPS ? { steps: Number(process.env.NC_STEPS) } : {}),
  ...(process.env.NC_SEED ? { seed: Number(process.env.NC_SEED) } : {}),
  maxInstances: 3,
  // A real deploy takes a few hundred ms: an injected hang must outlast a real call.
  hangTimeoutMs: 10_000,
  timeoutMs: 1_800_000,
});
