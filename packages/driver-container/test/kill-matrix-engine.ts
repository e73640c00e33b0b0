import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import type { ConnectionInfo } from '@nova-common/core';
import { renderKillMatrix, runKillMatrix } from '@nova-common/conformance';
import { ContainerDriverConfigSchema } from '../src/config.js';
import { createContainerDriver } from '../src/driver/driver.js';
import { containerWitness } from '../src/witness.js';
import { BASE_IMAGE } from './helpers.js';

const run = promisify(execFile);

/** Where an engine runs and how its backend script controls it. */
export interface KillableEngine {
  backend: string;
  socketPath: string;
  volumeRoot: string;
  stateDir: string;
  /** The engine's daemon pid, as its backend script recorded it. */
  pidFile: string;
  /** The backend script (start keeps the engine's images and containers). */
  script: string;
  volumeConnection(volumeId: string): ConnectionInfo;
}

/**
 * The standing fault matrix on a container engine: the engine's daemon SIGKILLed during spawn,
 * destroy, power and device calls, at the call's start and half way through, then started
 * again by its script. Each cell checks what a caller of a crashed backend is promised (see
 * runKillMatrix); the matrix is printed, and every cell must hold.
 */
export async function engineKillMatrix(engine: KillableEngine): Promise<void> {
  const config = ContainerDriverConfigSchema.parse({ socketPath: engine.socketPath, volumeRoot: engine.volumeRoot, stateDir: engine.stateDir, ownerId: 'kill-matrix', stopTimeoutSeconds: 2 });
  const witness = containerWitness(config);
  try {
    const cells = await runKillMatrix({
      backend: engine.backend,
      createDriver: () => createContainerDriver(config),
      killBackend: async () => {
        const pid = Number(readFileSync(engine.pidFile, 'utf8').trim());
        if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no daemon pid in ${engine.pidFile}`);
        process.kill(pid, 'SIGKILL');
      },
      startBackend: async () => void (await run('bash', [engine.script, 'start'], { timeout: 180_000, env: { ...process.env } })),
      witness,
      spec: (uuid) => ({ uuid, name: 'kill-matrix', flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 64, rootGb: 1 }, image: { id: BASE_IMAGE, diskFormat: 'raw', containerFormat: 'docker' } }),
      volume: (uuid) => {
        const volumeId = crypto.randomUUID();
        return { volumeId, connectionInfo: engine.volumeConnection(`${uuid}-${volumeId}`) };
      },
      operations: ['spawn', 'destroy', 'powerOff', 'powerOn', 'reboot', 'attachVolume', 'detachVolume'],
      guardOptions: { timeouts: { spawn: 60_000, destroy: 60_000, powerOff: 60_000, powerOn: 60_000, reboot: 60_000, attachVolume: 60_000, detachVolume: 60_000 } },
    });
    console.log(renderKillMatrix(engine.backend, cells));
    expect(cells.filter((c) => c.failure !== undefined).map((c) => `${c.operation}@${c.killAt}: ${c.failure}`)).toEqual([]);
  } finally {
    await witness.close?.();
  }
}
