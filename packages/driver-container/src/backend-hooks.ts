import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BackendHooks } from '@nova-common/core';
import { EngineClient } from './client/engine-client.js';
import type { ContainerDriverConfig } from './config.js';
import { engineKindOf, type EngineKind } from './mapping/engine-kind.js';
import { isNotRunning } from './mapping/errors.js';
import { containerName } from './mapping/labels.js';

const run = promisify(execFile);

/** The environment variable naming the script whose `restart` action restarts the engine (else found under scripts/backends/). */
export const BACKEND_SCRIPT_ENV = 'NOVA_COMMON_CONTAINER_BACKEND_SCRIPT';

/**
 * Acting on the engine behind the driver's back, as an operator or a failing guest would, through the
 * engine's own API (never through the driver):
 *
 *   crash              SIGKILL to the container's init (`POST /containers/<id>/kill?signal=KILL`): the run ends
 *                      with 137 and the driver did not ask for it, so getInfo reads CRASHED. A container that
 *                      is not running (a shut-down instance) is started first and then killed, as a machine
 *                      that crashes while starting: the suite crashes instances in every state
 *   powerOffOutOfBand  `POST /containers/<id>/stop` (SIGTERM, SIGKILL after the configured grace), as
 *                      `docker stop` does; a paused one is unpaused first on podman, which refuses to stop it.
 *                      The init ends on SIGTERM (143), so getInfo reads SHUTDOWN
 *   restartBackend     the backend script's `restart` (dockerd or podman stopped and started again keeping every
 *                      image and container; containers come back stopped, as after a host restart)
 *
 * There is no loseState: an engine always knows its containers' state (NOSTATE is only the instant of a
 * removal, which ends ABSENT), so the driver cannot be brought to report NOSTATE. Each hook returns once
 * its effect is visible through the engine.
 */
export function containerBackendHooks(config: ContainerDriverConfig): { hooks: BackendHooks; close(): Promise<void> } {
  let client: EngineClient | undefined;
  let kind: EngineKind | undefined;
  const engine = async (): Promise<{ client: EngineClient; kind: EngineKind }> => {
    const { socketPath, apiVersion, connectTimeoutMs, requestTimeoutMs, longRequestTimeoutMs } = config;
    client ??= new EngineClient({ socketPath, apiVersion, connectTimeoutMs, requestTimeoutMs, longRequestTimeoutMs });
    kind ??= engineKindOf(await client.negotiate());
    return { client, kind };
  };
  const naming = { namePrefix: config.namePrefix, labelPrefix: config.labelPrefix, ownerId: config.ownerId };

  const hooks: BackendHooks = {
    async crash(uuid) {
      const { client: c } = await engine();
      const name = containerName(naming, uuid);
      try {
        await c.killContainer(name, 'KILL');
      } catch (err) {
        if (!isNotRunning(err)) throw err;
        await c.startContainer(name);
        await c.killContainer(name, 'KILL');
      }
      await c.waitNotRunning(name);
    },
    async powerOffOutOfBand(uuid) {
      const { client: c, kind: k } = await engine();
      const name = containerName(naming, uuid);
      const state = (await c.inspectContainer(name)).State;
      if (k === 'podman' && state.Paused) await c.unpauseContainer(name);
      try {
        await c.stopContainer(name, config.stopTimeoutSeconds);
      } catch (err) {
        if (!isNotRunning(err)) throw err;
      }
      await c.waitNotRunning(name);
    },
    async restartBackend() {
      const { kind: k } = await engine();
      const script = backendScript(k);
      const socketVar = k === 'podman' ? 'PODMAN_SOCKET' : 'DOCKER_SOCKET';
      await run('bash', [script, 'restart'], { timeout: 300_000, env: { ...process.env, [socketVar]: config.socketPath } });
      // Ready when the engine answers again (the script waits for it too).
      await client!.negotiate();
    },
  };
  return {
    hooks,
    close: async () => {
      await client?.close();
      client = undefined;
    },
  };
}

/** The script that restarts the engine: $NOVA_COMMON_CONTAINER_BACKEND_SCRIPT, or scripts/backends/<kind>.sh above the working directory. */
export function backendScript(kind: EngineKind, from = process.cwd()): string {
  const configured = process.env[BACKEND_SCRIPT_ENV];
  if (configured) return configured;
  const name = kind === 'podman' ? 'podman.sh' : 'docker.sh';
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'scripts', 'backends', name);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`restartBackend: no scripts/backends/${name} above ${from}; set ${BACKEND_SCRIPT_ENV} to a script whose 'restart' action restarts the engine`);
}
