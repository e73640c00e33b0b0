import { afterAll, describe, expect, it } from 'vitest';
import { describeConformance } from '@nova-common/conformance/vitest';
import { containerBackendHooks } from '../src/backend-hooks.js';
import { EngineClient } from '../src/client/engine-client.js';
import { ContainerDriverConfigSchema } from '../src/config.js';
import { containerWitness } from '../src/witness.js';
import { SOCKET, STATE_DIR, VOLUME_ROOT, adaptSpec, images, rawTestDriver, volumeConnection } from './helpers.js';

const OWNER = 'conformance';
// The engine seen without the driver: leaks and ghosts fail P-BACKEND-WITNESS; with it P-RESTART runs too.
const engineConfig = ContainerDriverConfigSchema.parse({ socketPath: SOCKET, volumeRoot: VOLUME_ROOT, stateDir: STATE_DIR, ownerId: OWNER });
const witness = containerWitness(engineConfig);
// A SIGKILL to a container's init, through the engine's API: the sequences reach the CRASHED row.
const backend = containerBackendHooks(engineConfig);

// The default run (20 sequences x 25 steps per property) against the real engine: one test per property the
// driver declares, UNSUPPORTED verified for the rest.
describeConformance('@nova-common/driver-container on dockerd', () => rawTestDriver(OWNER), {
  name: '@nova-common/driver-container',
  module: '@nova-common/driver-container',
  config: { ownerId: OWNER },
  adaptSpec,
  volumeConnection,
  images,
  witness,
  simulate: { crash: (_driver: unknown, uuid: string) => backend.hooks.crash!(uuid) },
  settleTimeoutMs: 500,
  // A real spawn takes a few hundred ms: the injected-hang timeout must be longer than that.
  hangTimeoutMs: 3000,
  timeoutMs: 1_200_000,
});

describe('after the conformance run', () => {
  const client = new EngineClient({ socketPath: SOCKET });
  afterAll(async () => {
    await client.close();
    await witness.close?.();
    await backend.close();
  });
  it('left no container of its owner on the engine', async () => {
    const left = await client.listContainers({ label: [`io.nova-common.owner=${OWNER}`] });
    expect(left.map((c) => c.Names[0])).toEqual([]);
  });
});
