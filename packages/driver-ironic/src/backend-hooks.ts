/**
 * Acting on Ironic behind the driver's back (core's BackendHooks, since contract 1.1), for the
 * conformance suite and the driver's own tests. Each hook returns once its effect is visible
 * through Ironic's API.
 *
 *   crash(uuid)             the node's deploy fails and the machine goes off: Ironic is asked to
 *                           rebuild the node with its only deploy step disabled, which ends in
 *                           `deploy failed` ("No deploy steps returned by the driver") with the
 *                           instance still on the node; then it is powered off, as a real failed
 *                           deploy leaves it (Ironic's [deploy] power_off_after_deploy_failure).
 *                           The driver reports CRASHED. API only: works on any Ironic >= 1.69.
 *   powerOffOutOfBand(uuid) an operator powers the machine off through Ironic's API.
 *   loseState(uuid)         Ironic forgets the node's power state (power_state null, NOSTATE). The
 *                           API cannot do that, so the backend script writes it to the test Ironic's
 *                           database (`ironic.sh lose-power-state`); offered only with the script.
 *   restartBackend()        `ironic.sh restart <variant>`: stop and start Ironic keeping its
 *                           database; bare metal (fake hardware's recorded power) keeps its power.
 *
 * The script is the project's scripts/backends/ironic.sh, found from NOVA_COMMON_IRONIC_SCRIPT or
 * by looking upwards from the working directory; its variant is the one listening at the endpoint.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { abortableSleep, type BackendHooks } from '@nova-common/core';
import type { IronicClient } from './client/client.js';
import { STATE_FIELDS, type IronicNode } from './client/types.js';
import type { IronicDriverConfig } from './config.js';
import { IronicDriver } from './driver/driver.js';

/** How the hooks reach the backend script; undefined: API-only hooks. */
export interface IronicBackendScript {
  /** Path of ironic.sh. */
  path: string;
  /** The script's variant serving the driver's endpoint. */
  variant: string;
}

const HOOK_TIMEOUT_MS = 120_000;
const RESTART_TIMEOUT_MS = 300_000;

/** The deploy steps of a rebuild that cannot deploy: the core step `deploy.deploy` disabled (priority 0). */
export const FAILING_DEPLOY_STEPS = [{ interface: 'deploy', step: 'deploy', args: {}, priority: 0 }];

function run(path: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((ok, fail) => {
    execFile('bash', [path, ...args], { timeout: timeoutMs, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`${path} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else ok(stdout);
    });
  });
}

/** ironic.sh from NOVA_COMMON_IRONIC_SCRIPT, or scripts/backends/ironic.sh in the working directory or above. */
export function findBackendScriptPath(env = process.env, from = process.cwd()): string | undefined {
  if (env.NOVA_COMMON_IRONIC_SCRIPT) return existsSync(env.NOVA_COMMON_IRONIC_SCRIPT) ? env.NOVA_COMMON_IRONIC_SCRIPT : undefined;
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'scripts', 'backends', 'ironic.sh');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The backend script and the variant serving `endpoint`, when both are found. */
export async function findBackendScript(endpoint: string): Promise<IronicBackendScript | undefined> {
  const path = findBackendScriptPath();
  if (!path) return undefined;
  const variant = await run(path, ['variant', endpoint], 10_000).then(
    (out) => out.trim(),
    () => '',
  );
  return variant ? { path, variant } : undefined;
}

async function withClient<T>(config: IronicDriverConfig, fn: (client: IronicClient) => Promise<T>): Promise<T> {
  const driver = new IronicDriver(config);
  await driver.initHost();
  try {
    return await fn(driver.client);
  } finally {
    await driver.cleanupHost();
  }
}

async function nodeOf(client: IronicClient, uuid: string): Promise<IronicNode> {
  const nodes = await client.nodes.list({ fields: STATE_FIELDS, query: { instance_uuid: uuid.toLowerCase() }, limit: 2 });
  const node = nodes[0];
  if (!node) throw new Error(`no Ironic node holds instance ${uuid}`);
  return node;
}

/** Look at the node until `done` says so. */
async function until(client: IronicClient, nodeUuid: string, what: string, done: (n: IronicNode) => boolean): Promise<IronicNode> {
  const deadline = Date.now() + HOOK_TIMEOUT_MS;
  for (let delay = 20; ; delay = Math.min(delay * 1.5, 500)) {
    const node = await client.nodes.get(nodeUuid, STATE_FIELDS);
    if (done(node)) return node;
    if (Date.now() > deadline) throw new Error(`node ${nodeUuid}: ${what} not reached (provision ${node.provision_state}, power ${node.power_state})`);
    await abortableSleep(delay);
  }
}

async function hardPowerOff(client: IronicClient, node: IronicNode): Promise<void> {
  await client.states.power(node.uuid, 'power off');
  await until(client, node.uuid, 'power off', (n) => n.power_state === 'power off' && !n.target_power_state);
}

/** Where an unrescue that did not reach `active` stops. */
const FAILED_AFTER_UNRESCUE: ReadonlySet<string> = new Set(['unrescue failed', 'error']);

export function ironicBackendHooks(config: IronicDriverConfig, script?: IronicBackendScript): BackendHooks {
  const hooks: BackendHooks = {
    crash: (uuid) =>
      withClient(config, async (client) => {
        let node = await nodeOf(client, uuid);
        if (node.provision_state === 'rescue') {
          // A rescued instance crashes out of its rescue: the contract's CRASHED has no rescue mode
          // (the mode is normal), which is where a failed rebuild after an unrescue leaves it.
          // A failed rescue ('rescue failed') would keep the node in rescue mode.
          await client.states.provision(node.uuid, 'unrescue');
          node = await until(client, node.uuid, 'unrescue', (n) => n.provision_state === 'active' || FAILED_AFTER_UNRESCUE.has(n.provision_state ?? ''));
        }
        if (node.provision_state === 'active') {
          await client.states.provision(node.uuid, 'rebuild', { deploy_steps: FAILING_DEPLOY_STEPS });
          await until(client, node.uuid, 'deploy failed', (n) => n.provision_state === 'deploy failed');
        } else if (node.provision_state !== 'deploy failed' && node.provision_state !== 'error') {
          throw new Error(`crash: node ${node.uuid} is ${node.provision_state}; only a deployed (active) or rescued node can be made to fail`);
        }
        await hardPowerOff(client, node);
      }),
    powerOffOutOfBand: (uuid) => withClient(config, async (client) => hardPowerOff(client, await nodeOf(client, uuid))),
  };
  if (script) {
    hooks.loseState = (uuid) =>
      withClient(config, async (client) => {
        const node = await nodeOf(client, uuid);
        await run(script.path, ['lose-power-state', script.variant, node.uuid], HOOK_TIMEOUT_MS);
        await until(client, node.uuid, 'power state null', (n) => n.power_state === null || n.power_state === undefined);
      });
    hooks.restartBackend = async () => {
      await run(script.path, ['restart', script.variant], RESTART_TIMEOUT_MS);
      // The script returns once Ironic answers; the driver's client reconnects on its next request.
      await withClient(config, (client) => client.nodes.list({ fields: ['uuid'], limit: 1 }).then(() => undefined));
    };
  }
  return hooks;
}
