/** Shared by the contract 1.1 tests against the real Ironic: backend hooks, Ironic's own API, small waits. */
import type { BackendHooks, GuardedDriver, InstanceInfo } from '@nova-common/core';
import { findBackendScript, ironicBackendHooks } from '../../src/backend-hooks.js';
import type { IronicDriver } from '../../src/index.js';

/** The hooks with the backend script (loseState, restartBackend included); fails loudly without the script. */
export async function backendHooks(raw: IronicDriver): Promise<Required<BackendHooks>> {
  const script = await findBackendScript(raw.config.endpoint);
  if (!script) throw new Error(`scripts/backends/ironic.sh not found, or no variant of it serves ${raw.config.endpoint}`);
  return ironicBackendHooks(raw.config, script) as Required<BackendHooks>;
}

/** The code a call rejects with, or OK. */
export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

/** The table row the instance is in, as getInfo reports it. */
export function rowOf(info: InstanceInfo): string {
  return info.mode === 'rescue' && info.powerState === 'RUNNING' ? 'RESCUE' : info.powerState;
}

export async function row(driver: GuardedDriver, uuid: string): Promise<string> {
  return rowOf(await driver.getInfo(uuid));
}

/** A request to Ironic's API on the driver's endpoint (what an operator would send). */
export async function ironicApi(raw: IronicDriver, method: string, path: string, body?: unknown): Promise<number> {
  const res = await fetch(`${raw.config.endpoint}${path}`, {
    method,
    headers: { 'X-OpenStack-Ironic-API-Version': '1.82', 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  await res.text();
  return res.status;
}

/** Wait until `check` holds (looking every 50 ms), or fail after `timeoutMs`. */
export async function until(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
