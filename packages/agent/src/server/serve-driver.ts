import { loadDriver, type GuardOptions } from '@nova-common/core';
import { startAgent, type Agent } from './agent.js';
import type { AgentOptions } from './options.js';

export interface ServeDriverOptions extends Omit<AgentOptions, 'driver' | 'driverName' | 'driverVersion' | 'driverContract'> {
  /** Where the driver package is resolved from (default the working directory). */
  resolveFrom?: string;
  /** Options of the guard wrapping the driver. */
  guard?: GuardOptions;
}

export interface ServedDriver {
  readonly agent: Agent;
  readonly driverName: string;
  readonly driverVersion: string;
}

/**
 * Load a driver package (or module path) with core's loadDriver, which validates its manifest,
 * contract range and configuration and returns it guarded, then serve it.
 */
export async function serveDriver(specifier: string, config: unknown, options: ServeDriverOptions): Promise<ServedDriver> {
  const { resolveFrom, guard, ...agentOptions } = options;
  const loaded = await loadDriver(specifier, config, { ...(resolveFrom === undefined ? {} : { resolveFrom }), ...(guard === undefined ? {} : { guard }) });
  const driverName = loaded.manifest.name;
  const driverVersion = loaded.manifest.version;
  const agent = await startAgent({ ...agentOptions, driver: loaded.driver, driverName, driverVersion, driverContract: loaded.manifest.contract });
  return { agent, driverName, driverVersion };
}
