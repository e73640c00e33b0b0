import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { EngineClient } from '../../src/client/engine-client.js';
import { engineKillMatrix } from '../kill-matrix-engine.js';
import { PODMAN_SCRIPT, PODMAN_SOCKET, PODMAN_STATE_DIR, PODMAN_VOLUME_ROOT, podmanVolumeConnection, requirePodman } from './helpers.js';

const run = promisify(execFile);
let client: EngineClient;

beforeAll(async () => {
  client = await requirePodman();
});

afterAll(async () => {
  await client?.close();
  // Leave the service running for whatever runs next.
  await run('bash', [PODMAN_SCRIPT, 'start'], { timeout: 180_000 });
});

describe('kill matrix: the podman service killed mid-call', () => {
  it('every interrupted call answers a retryable error or succeeds, its retry converges, and sweep leaves nothing', async () => {
    await engineKillMatrix({
      backend: 'podman',
      socketPath: PODMAN_SOCKET,
      volumeRoot: PODMAN_VOLUME_ROOT,
      stateDir: PODMAN_STATE_DIR,
      pidFile: '/tmp/nova-common/podman/podman.pid',
      script: PODMAN_SCRIPT,
      volumeConnection: podmanVolumeConnection,
    });
  }, 900_000);
});
