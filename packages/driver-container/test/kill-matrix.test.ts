import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineClient } from '../src/client/engine-client.js';
import { SCRIPT, SOCKET, STATE_DIR, VOLUME_ROOT, dockerScript, requireEngine, volumeConnection } from './helpers.js';
import { engineKillMatrix } from './kill-matrix-engine.js';

const run = promisify(execFile);
let client: EngineClient;

beforeAll(async () => {
  client = await requireEngine();
});

afterAll(async () => {
  await client?.close();
  // Leave the engine running for whatever runs next.
  await dockerScript('start');
});

describe('kill matrix: dockerd killed mid-call', () => {
  it('every interrupted call answers a retryable error or succeeds, its retry converges, and sweep leaves nothing', async () => {
    await engineKillMatrix({ backend: 'dockerd', socketPath: SOCKET, volumeRoot: VOLUME_ROOT, stateDir: STATE_DIR, pidFile: '/tmp/nova-common/docker/dockerd.pid', script: SCRIPT, volumeConnection });
    // Below the Engine API: every containerd shim of dockerd's namespace runs a container the engine reports
    // running. A dockerd killed mid-start leaves its shim behind, unseen by the API, until docker.sh reaps it.
    const running = new Set((await client.listContainers({ status: ['running'] })).map((c) => c.Id));
    const { stdout } = await run('pgrep', ['-af', 'containerd-shim-runc-v2 -namespace moby']).catch(() => ({ stdout: '' }));
    const shims = stdout.split('\n').map((line) => /-id ([0-9a-f]{64})/.exec(line)?.[1]).filter((id): id is string => id !== undefined);
    expect(shims.filter((id) => !running.has(id))).toEqual([]);
  }, 900_000);
});
