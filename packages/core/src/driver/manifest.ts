import { z } from 'zod';
import type { ComputeDriver } from './compute-driver.js';

/**
 * What a driver package exports as `manifest`: who it is, which contract versions it
 * implements, the schema of its configuration and how to create it. The loader validates
 * every field before calling `create`.
 */
export interface DriverManifest<Config = unknown> {
  /** The npm package name, e.g. `@nova-common/driver-libvirt`. */
  readonly name: string;
  /** The package version (semver). */
  readonly version: string;
  /** The contract semver range implemented, e.g. `^1.0.0`. */
  readonly contract: string;
  /** One line on what the driver drives. */
  readonly description: string;
  /** The configuration schema; `create` receives its parsed output. */
  readonly configSchema: z.ZodType<Config>;
  /** Create an unconnected driver; the caller then calls initHost. */
  create(config: Config): ComputeDriver;
}

/** Identity and typing helper for driver authors: `export const manifest = defineDriver({...})`. */
export function defineDriver<Config>(manifest: DriverManifest<Config>): DriverManifest<Config> {
  return manifest;
}

/**
 * The `nova-common` field a driver package may put in its package.json, so registries and
 * deployers can see what it is without running its code.
 */
export const PackageDriverFieldSchema = z
  .object({
    driver: z.literal(true),
    contract: z.string().min(1),
  })
  .strict();
export type PackageDriverField = z.infer<typeof PackageDriverFieldSchema>;
