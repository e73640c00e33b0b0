import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import {
  DriverLoadError,
  loadDriver,
  type ComputeDriver,
  type ConformanceFixtures,
  type DriverManifest,
  type InputIssue,
} from '@nova-common/core';
import { referenceManifest } from '@nova-common/core/testing';
import { fileURLToPath } from 'node:url';
import { driverEntryFile } from './driver-entry.js';
import { UsageError } from './io.js';

/** `--driver reference` means the in-memory reference driver shipped in @nova-common/core/testing. */
const REFERENCE_ALIAS = 'reference';
const REFERENCE_MODULE = '@nova-common/core/testing';

/** A driver named on the command line, loaded and its configuration validated, not yet created. */
export interface DriverSource {
  /** What was passed to --driver. */
  specifier: string;
  manifest: DriverManifest;
  /** The configuration as the config file holds it (reported, after redaction). */
  rawConfig: unknown;
  /** The configuration after the driver's configSchema (defaults applied). */
  config: unknown;
  /** How a replay program imports the driver: a package name or the absolute path of its entry file. */
  module: string;
  /** The absolute path of the `--config` file, when there was one (replay and sweep commands repeat it). */
  configFile: string | undefined;
  /** A new, unconnected raw driver (the suite connects it and wraps it in the guard). */
  createRaw(): ComputeDriver;
  /** The fixtures the driver's manifest provides for conformance runs, if any. */
  fixtures(): Promise<ConformanceFixtures>;
}

/** Read `--config file.json`; usage errors name the file and what is wrong with it. */
export async function readConfigFile(command: string, path: string | undefined, cwd: string): Promise<unknown> {
  if (path === undefined) return {};
  const full = resolve(cwd, path);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read config file ${full}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, command);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`config file ${full} is not valid JSON: ${(error as Error).message}`, command);
  }
}

/**
 * Load the driver: `reference`, a package name (resolved from the working directory) or a
 * path. Failures are DriverLoadErrors (the CLI prints their message and exits 2).
 */
export async function loadDriverSource(specifier: string, rawConfig: unknown, cwd: string, configFile?: string): Promise<DriverSource> {
  if (specifier === REFERENCE_ALIAS || specifier === REFERENCE_MODULE) {
    const manifest = referenceManifest as unknown as DriverManifest;
    const parsed = manifest.configSchema.safeParse(rawConfig);
    if (!parsed.success) {
      throw new DriverLoadError('INVALID_CONFIG', {
        specifier,
        packageName: REFERENCE_MODULE,
        reason: `the configuration does not match ${manifest.name}'s configSchema`,
        issues: parsed.error.issues.map(
          (i): InputIssue => ({ path: i.path.map((p) => (typeof p === 'number' ? p : String(p))), message: i.message }),
        ),
      });
    }
    return source(specifier, manifest, rawConfig, parsed.data, REFERENCE_MODULE, undefined, configFile);
  }
  const loaded = await loadDriver(specifier, rawConfig, { resolveFrom: cwd });
  const isPath = isAbsolute(specifier) || specifier.startsWith('.') || specifier.startsWith('file:');
  const module = isPath ? driverEntryFile(resolve(cwd, specifier.startsWith('file:') ? fileURLToPath(specifier) : specifier)) : specifier;
  const config = await loaded.manifest.configSchema.parseAsync(rawConfig);
  return source(specifier, loaded.manifest, rawConfig, config, module, loaded.raw, configFile);
}

function source(
  specifier: string,
  manifest: DriverManifest,
  rawConfig: unknown,
  config: unknown,
  module: string,
  firstRaw: ComputeDriver | undefined,
  configFile: string | undefined,
): DriverSource {
  let spare = firstRaw;
  return {
    specifier,
    manifest,
    rawConfig,
    config,
    module,
    configFile,
    createRaw() {
      // loadDriver already created one (to check it); hand that out first.
      if (spare !== undefined) {
        const raw = spare;
        spare = undefined;
        return raw;
      }
      return manifest.create(config);
    },
    async fixtures() {
      return (await manifest.conformanceFixtures?.(config)) ?? {};
    },
  };
}
