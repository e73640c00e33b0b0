import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { VifPlugin, VolumeConnector } from './interfaces.js';

/** A plug module that cannot be found, loaded or called, or whose factory answers no plug. */
export class PlugLoadError extends Error {
  override readonly name = 'PlugLoadError';
}

const SHAPE = {
  vif: { what: 'VIF plugin', fields: ['name', 'vifTypes'], methods: ['plug', 'unplug', 'listPlugged'] },
  volume: { what: 'volume connector', fields: ['name', 'transports'], methods: ['getConnector', 'connect', 'disconnect', 'extend', 'listConnected'] },
} as const;

/** `<package|path>#<export>`: the module and the name of its factory (default: the default export). */
function split(specifier: string): { module: string; name: string } {
  const hash = specifier.lastIndexOf('#');
  if (hash <= 0) return { module: specifier, name: 'default' };
  return { module: specifier.slice(0, hash), name: specifier.slice(hash + 1) };
}

function locate(module: string, resolveFrom: string): string {
  if (module.startsWith('.') || isAbsolute(module)) return resolve(resolveFrom, module);
  try {
    return createRequire(join(resolveFrom, 'package.json')).resolve(module);
  } catch (error) {
    throw new PlugLoadError(`${module} is not installed where it is looked for (${resolveFrom}): ${(error as Error).message}`);
  }
}

/**
 * Load a plug as the agent's driver is loaded, from a package or a module path resolved from
 * `resolveFrom`: `specifier` names the module and its factory (`@nova-common/plugs#createVethPlugin`),
 * which is called with `config` (the parsed JSON of the plug's configuration file) and must
 * answer a plug of the kind (`vif`: a VifPlugin; `volume`: a VolumeConnector). The agent puts
 * what it answers behind the plug guard.
 */
export async function loadPlug(kind: 'vif', specifier: string, config: unknown, resolveFrom: string): Promise<VifPlugin>;
export async function loadPlug(kind: 'volume', specifier: string, config: unknown, resolveFrom: string): Promise<VolumeConnector>;
export async function loadPlug(kind: 'vif' | 'volume', specifier: string, config: unknown, resolveFrom: string): Promise<VifPlugin | VolumeConnector> {
  const shape = SHAPE[kind];
  const { module, name } = split(specifier);
  const path = locate(module, resolveFrom);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new PlugLoadError(`${specifier}: cannot load ${path}: ${(error as Error).message}`);
  }
  const factory = exports[name];
  if (typeof factory !== 'function') {
    const functions = Object.keys(exports).filter((k) => typeof exports[k] === 'function');
    throw new PlugLoadError(`${specifier}: the module exports no function ${name} (its functions: ${functions.join(', ') || 'none'}); name the ${shape.what}'s factory after #`);
  }
  let plug: unknown;
  try {
    plug = await (factory as (config: unknown) => unknown)(config);
  } catch (error) {
    throw new PlugLoadError(`${specifier}: the factory refused its configuration: ${(error as Error).message}`);
  }
  const missing = [
    ...shape.fields.filter((f) => (plug as Record<string, unknown> | null)?.[f] === undefined),
    ...shape.methods.filter((m) => typeof (plug as Record<string, unknown> | null)?.[m] !== 'function'),
  ];
  if (typeof plug !== 'object' || plug === null || missing.length > 0) {
    throw new PlugLoadError(`${specifier}: ${name} did not answer a ${shape.what} (missing ${missing.join(', ')})`);
  }
  return plug as VifPlugin | VolumeConnector;
}
