import { resolve } from 'node:path';
import { PROFILE_IDS, type ProfileId } from '@nova-common/core';
import { listOption, requireOption, stringOption, type OptionSpec, type Parsed } from '../args.js';
import { loadDriverSource, readConfigFile, type DriverSource } from '../driver-source.js';
import { UsageError, type CliIo } from '../io.js';
import type { MigrationPeer } from '../../config.js';

export const DRIVER_OPTIONS: Record<string, OptionSpec> = {
  driver: { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** `--profile a b`, `--profile a --profile b` and `--profile a,b` all work; unknown ids are usage errors. */
export function profilesOption(command: string, value: unknown): ProfileId[] | undefined {
  const ids = listOption(value).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  if (ids.length === 0) return undefined;
  for (const id of ids) {
    if (!(PROFILE_IDS as readonly string[]).includes(id)) {
      throw new UsageError(`unknown profile "${id}"; profiles are: ${PROFILE_IDS.join(', ')}`, command);
    }
  }
  return [...new Set(ids)] as ProfileId[];
}

export function onlyOption(value: unknown): string[] | undefined {
  const ids = listOption(value).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  return ids.length === 0 ? undefined : [...new Set(ids)];
}

/** --driver and --config of a command, loaded. */
export async function driverFromArgs(command: string, args: Parsed, io: CliIo): Promise<DriverSource> {
  const specifier = requireOption(command, 'driver', args.driver);
  const file = stringOption(args.config);
  const config = await readConfigFile(command, file, io.cwd);
  return loadDriverSource(specifier, config, io.cwd, file === undefined ? undefined : resolve(io.cwd, file));
}

/**
 * The second host of the two-host migration properties: the same driver with the
 * `--peer-config` configuration (its own backend: another libvirt daemon, another engine). The
 * reference driver needs none: each of its driver objects is a host of its own.
 */
export async function peerFromArgs(command: string, source: DriverSource, peerConfigFile: unknown, io: CliIo): Promise<MigrationPeer | undefined> {
  if (peerConfigFile === undefined) {
    return source.manifest.name === '@nova-common/core/testing' ? { driver: () => source.createRaw(), kind: source.manifest.name } : undefined;
  }
  const file = stringOption(peerConfigFile);
  const peer = await loadDriverSource(source.specifier, await readConfigFile(command, file, io.cwd), io.cwd, file);
  const fixtures = await peer.fixtures();
  return { driver: () => peer.createRaw(), kind: peer.manifest.name, ...(fixtures.witness ? { witness: fixtures.witness } : {}) };
}
