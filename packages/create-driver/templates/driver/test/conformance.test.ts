import { describeConformance } from '@nova-common/conformance/vitest';
import { manifest } from '../src/manifest.js';

// The conformance suite as vitest tests, one per property that applies to what the driver
// declares. Against a real backend, give the configuration that reaches it, and raise
// runs and steps in CI (`nova-conformance run` does the same from a shell).
const config = manifest.configSchema.parse({ backend: 'conformance-test' });

describeConformance(manifest.name, () => manifest.create(config), {
  contract: manifest.contract,
  version: manifest.version,
  runs: 20,
  steps: 25,
});
