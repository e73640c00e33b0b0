import { z } from 'zod';
import type { ComputeDriver } from './compute-driver.js';
import type { InstanceSpecInput } from '../schemas/instance-spec.js';
import type { ImageMetaInput } from '../schemas/image-meta.js';
import type { ConnectionInfo } from '../schemas/block-device-info.js';

/**
 * What a conformance run needs from the backend to generate valid specs for it: images
 * that exist there, volumes it can really attach, flavors in its resource classes. The
 * suite's generated specs are passed through `adaptSpec`; the adapted spec MUST keep the
 * uuid, name, metadata, powerOn flag, VIF ids and volume ids.
 */
export interface ConformanceFixtures {
  adaptSpec?: (spec: InstanceSpecInput) => InstanceSpecInput;
  volumeConnection?: (volumeId: string) => ConnectionInfo | Promise<ConnectionInfo>;
  images?: ImageMetaInput[];
  /** Called after the run, to remove what the fixtures created (volume files, ...). */
  cleanup?: () => Promise<void>;
  /**
   * Acting on the backend directly, as no call of the driver would (since 1.1): what lets the
   * suite reach the CRASHED and NOSTATE rows and check out-of-band events and host restarts on
   * a real backend. Each hook returns once its effect is visible on the backend.
   */
  backend?: BackendHooks;
  /**
   * The contract range of the driver this configuration reaches, when it is not the manifest's
   * (since 1.1): a remote driver reports the range of the driver its agent serves, so the suite
   * holds that driver to its own baseline (R-BASELINE).
   */
  contract?: string;
  /**
   * An independent look at the backend (since 1.1): what exists there for this configuration,
   * read with a client of its own, never through the driver. The suite compares it with what the
   * driver reports after each sequence and after its teardown, to find leaks (on the backend,
   * not reported: a destroy that forgot to kill) and ghosts (reported, not on the backend)
   * (R-BACKEND-LEAK, R-BACKEND-GHOST).
   */
  witness?: BackendWitness;
}

/** A machine the backend holds for a driver, as its witness sees it (since 1.1). */
export interface WitnessMachine {
  /** The uuid of the instance the machine is (any letter case). */
  uuid: string;
  /** Whether the machine is powered on (a QEMU process, a running container, a node powered on), when the backend says. */
  running?: boolean;
}

/**
 * What a driver's fixtures offer the suite to see its backend without the driver (since 1.1):
 * a second connection of the backend's own client, filtered by the driver's ownership mark (name
 * prefix, label, instance_uuid). Read-only: it never changes the backend.
 */
export interface BackendWitness {
  /** Every machine the backend holds for this configuration, whatever the driver reports. */
  listMachines(): Promise<WitnessMachine[]>;
  /** Release the witness's own connection (after the run). */
  close?(): Promise<void>;
}

/** Hooks a driver's fixtures offer to act on its backend behind the driver's back (since 1.1). */
export interface BackendHooks {
  /** The machine stops without being asked (kill the QEMU process, kill the container's init, fail the node). */
  crash?(uuid: string): Promise<void>;
  /** The backend loses track of the instance's power state (NOSTATE). */
  loseState?(uuid: string): Promise<void>;
  /** The guest or an operator powers the machine off out of band (ACPI inside the guest, `docker kill`, Ironic's API). */
  powerOffOutOfBand?(uuid: string): Promise<void>;
  /** Restart the backend (daemon and, where it has them, its running machines), keeping its state. */
  restartBackend?(): Promise<void>;
}

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
  /**
   * Optional: the fixtures the conformance suite should use with this configuration, so
   * `nova-conformance run --driver <package>` works against a real backend unaided.
   */
  conformanceFixtures?(config: Config): ConformanceFixtures | Promise<ConformanceFixtures>;
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
