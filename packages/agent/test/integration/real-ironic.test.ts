import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IRONIC_ENDPOINT, requireIronic, servePackage, type ServedPackage } from '../helpers/real-backends.js';
import { conformanceThroughAgent, failuresOf } from '../helpers/remote-suite.js';

const DRIVER = '@nova-common/driver-ironic';
/**
 * The properties the generated sequences check call by call. Left to the driver's own suite: the
 * slow ones (waiting out node cleaning after each sequence), and P-LIST-OWNED, which needs the
 * instances present before the run to stay (the test Ironic is shared with the driver's own suites,
 * whose instances come and go meanwhile).
 */
const PROPERTIES = ['P-MODEL-SEQUENCES', 'P-IDEMPOTENT-REPEAT', 'P-INFO-UNKNOWN', 'P-EVENTS'];

/**
 * @nova-common/driver-ironic served by a nova-agent process on a unix socket, on the real
 * Ironic (fake hardware; scripts/backends/ironic.sh): the conformance suite through the wire.
 * A short run: every step is an Ironic round trip and a freed node cleans before it takes the
 * next instance; the driver's own suite runs the long one in process.
 */
describe('driver-ironic on Ironic through the agent', () => {
  const config = {
    endpoint: IRONIC_ENDPOINT,
    imageSourceTemplate: 'file:///tmp/nova-common/ironic/images/{id}.img',
    nodeFilter: { resourceClass: 'baremetal' },
    nodeAvailableMs: 15_000,
  };
  let served: ServedPackage;

  beforeAll(async () => {
    await requireIronic();
    served = await servePackage(DRIVER, config);
  });
  afterAll(async () => {
    await served?.close();
  });

  it('passes the conformance suite through the wire, judged by the served driver’s own contract range', async () => {
    const result = await conformanceThroughAgent(served, DRIVER, config, {
      seed: 41,
      runs: 1,
      steps: 6,
      walk: false,
      budget: '0steps',
      hangTimeoutMs: 10_000,
      only: PROPERTIES,
    });
    expect(failuresOf(result)).toEqual([]);
    expect(result.properties.filter((p) => p.status === 'passed').map((p) => p.id).sort()).toEqual([...PROPERTIES].sort());
  }, 600_000);
});
