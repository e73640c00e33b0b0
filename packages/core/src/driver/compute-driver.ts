import type { DriverCapabilities } from '../capabilities/driver-capabilities.js';
import type { InstanceSpec, RebootType, RebuildSpec, RescueSpec, SnapshotSpec } from '../schemas/instance-spec.js';
import type { InstanceInfo, InstanceSummary } from '../schemas/instance-info.js';
import type { HostInventory, NodeInfo } from '../schemas/inventory.js';
import type { ConsoleOutput, LifecycleEvent, SnapshotResult } from '../schemas/outputs.js';
import type { RestorableState } from '../schemas/power-state.js';
import type { VolumeAttachment } from '../schemas/block-device-info.js';
import type { Vif } from '../schemas/network-info.js';
import type { MigrationProgress, MigrationRequest, MigrationTarget } from '../schemas/migration.js';

/** Options every call accepts. */
export interface CallOptions {
  /** Aborting it makes the call reject with CANCELLED as soon as the driver can stop safely. */
  signal?: AbortSignal;
}

/** Options of power off: how long to wait for a graceful (ACPI) shutdown before forcing it. */
export interface PowerOffOptions extends CallOptions {
  /** Milliseconds to wait for the guest to shut down by itself; 0 forces at once. */
  gracefulTimeoutMs?: number;
}

export type LifecycleListener = (event: LifecycleEvent) => void;
export type Unsubscribe = () => void;

/**
 * The compute driver contract. Every method is asynchronous and rejects only with a
 * DriverError whose code the operation's descriptor (OPERATIONS) lists. The outcome of
 * each instance operation in each power state is fixed by the semantics table
 * (SEMANTICS); drivers absorb their backend's differences so callers never see them.
 *
 * Mandatory members have no `?`. Optional operations may be left out when the driver
 * declares their capability `missing`; a present method whose capability is declared
 * missing must reject with UNSUPPORTED, never do nothing.
 */
export interface ComputeDriver {
  /** Connect to the backend and prepare the host. Called once before anything else. @since 1.0.0 */
  initHost(options?: CallOptions): Promise<void>;
  /** Release connections and timers. Leaves instances alone. @since 1.0.0 */
  cleanupHost(options?: CallOptions): Promise<void>;
  /** What this driver supports with its current configuration and backend. @since 1.0.0 */
  getCapabilities(options?: CallOptions): Promise<DriverCapabilities>;
  /** Nodes this host manages: one for a hypervisor, many for bare metal. @since 1.0.0 */
  listNodes(options?: CallOptions): Promise<NodeInfo[]>;
  /** Inventory of every node, with what this driver's instances use. @since 1.0.0 */
  getInventory(options?: CallOptions): Promise<HostInventory>;
  /** Instances this driver created, and only those. @since 1.0.0 */
  listInstances(options?: CallOptions): Promise<InstanceSummary[]>;
  /** Current state of one instance, read from the backend. Unknown uuid: INSTANCE_NOT_FOUND. @since 1.0.0 */
  getInfo(uuid: string, options?: CallOptions): Promise<InstanceInfo>;
  /** Create and (when spec.powerOn) start an instance. Atomic: on failure nothing is left. @since 1.0.0 */
  spawn(spec: InstanceSpec, options?: CallOptions): Promise<void>;
  /** Remove an instance and everything the driver made for it. Idempotent. @since 1.0.0 */
  destroy(uuid: string, options?: CallOptions): Promise<void>;

  /** @since 1.0.0 capability operation.power-on-off */
  powerOff?(uuid: string, options?: PowerOffOptions): Promise<void>;
  /** @since 1.0.0 capability operation.power-on-off */
  powerOn?(uuid: string, options?: CallOptions): Promise<void>;
  /** SOFT tries a graceful reboot and falls back to HARD. @since 1.0.0 capability operation.reboot */
  reboot?(uuid: string, type: RebootType, options?: CallOptions): Promise<void>;
  /** @since 1.0.0 capability operation.pause */
  pause?(uuid: string, options?: CallOptions): Promise<void>;
  /** @since 1.0.0 capability operation.unpause */
  unpause?(uuid: string, options?: CallOptions): Promise<void>;
  /** @since 1.0.0 capability operation.suspend */
  suspend?(uuid: string, options?: CallOptions): Promise<void>;
  /** @since 1.0.0 capability operation.resume */
  resume?(uuid: string, options?: CallOptions): Promise<void>;
  /** @since 1.0.0 capability operation.rescue */
  rescue?(uuid: string, spec: RescueSpec, options?: CallOptions): Promise<void>;
  /** @since 1.0.0 capability operation.rescue */
  unrescue?(uuid: string, options?: CallOptions): Promise<void>;
  /** Re-create the instance's root disk from a new image; volumes and interfaces stay. @since 1.0.0 capability operation.rebuild */
  rebuild?(uuid: string, spec: RebuildSpec, options?: CallOptions): Promise<void>;
  /** @since 1.0.0 capability operation.snapshot */
  snapshot?(uuid: string, spec: SnapshotSpec, options?: CallOptions): Promise<SnapshotResult>;
  /** Remove an image a snapshot produced. Idempotent. @since 1.0.0 capability operation.snapshot */
  deleteSnapshot?(imageId: string, options?: CallOptions): Promise<void>;
  /** @since 1.0.0 capability operation.attach-volume */
  attachVolume?(uuid: string, attachment: VolumeAttachment, options?: CallOptions): Promise<void>;
  /** @since 1.0.0 capability operation.detach-volume */
  detachVolume?(uuid: string, volumeId: string, options?: CallOptions): Promise<void>;
  /** @since 1.0.0 capability operation.extend-volume */
  extendVolume?(uuid: string, volumeId: string, newSizeGb: number, options?: CallOptions): Promise<void>;
  /** @since 1.0.0 capability operation.attach-interface */
  attachInterface?(uuid: string, vif: Vif, options?: CallOptions): Promise<void>;
  /** @since 1.0.0 capability operation.detach-interface */
  detachInterface?(uuid: string, vifId: string, options?: CallOptions): Promise<void>;
  /** @since 1.0.0 capability console.serial.log */
  getConsoleOutput?(uuid: string, options?: CallOptions): Promise<ConsoleOutput>;
  /**
   * Bring the instance to the state its caller last asked for, from whatever state it is in
   * now, typically after the backend or the host restarted (libvirt domains do not autostart,
   * containers come back stopped, bare metal keeps its power). Never loses data silently: a
   * saved memory image is neither discarded nor invented. Idempotent.
   * @since 1.1.0 capability operation.restore-state
   */
  restoreState?(uuid: string, desired: RestorableState, options?: CallOptions): Promise<void>;
  /** The images snapshot made and deleteSnapshot has not removed, oldest first. @since 1.1.0 capability operation.list-snapshots */
  listSnapshots?(options?: CallOptions): Promise<SnapshotResult[]>;

  // ---- moving instances between two hosts of one kind (docs/contract.md, "Migration") ----
  /**
   * DESTINATION: check that this host can take the instance (same driver kind, room for the
   * flavor, instance not here unless it is a resize in place) and reserve room for it. Nothing
   * moves. Idempotent under `request.migrationId`.
   * @since 1.2.0 capability operation.migrate (LIVE: also operation.live-migrate; sameHost: also operation.resize-in-place)
   */
  prepareMigration?(request: MigrationRequest, options?: CallOptions): Promise<MigrationTarget>;
  /**
   * SOURCE: move the instance to the prepared target. When it resolves, the instance is on the
   * destination (listed there, in the state MIGRATION_SEMANTICS gives, with the target's
   * flavor) and nothing of it is left here. When it rejects (including CANCELLED when the
   * signal aborts a live migration), the instance is here as before.
   * @since 1.2.0 capability operation.migrate (LIVE: also operation.live-migrate; sameHost: also operation.resize-in-place)
   */
  migrate?(uuid: string, target: MigrationTarget, options?: CallOptions): Promise<void>;
  /** DESTINATION: complete a migration that migrate delivered: the reservation becomes the instance's. Idempotent. @since 1.2.0 capability operation.migrate */
  finishMigration?(migrationId: string, options?: CallOptions): Promise<void>;
  /**
   * DESTINATION: give up a migration that migrate did not deliver: release the reservation and
   * remove anything half-arrived. Refuses (INVALID_STATE) to touch an instance that arrived.
   * Idempotent. @since 1.2.0 capability operation.migrate
   */
  abortMigration?(migrationId: string, options?: CallOptions): Promise<void>;
  /**
   * SOURCE: where the migration of `uuid` stands (phase NONE when none runs). Answers while
   * migrate runs, without waiting for it (R-MIGRATE-PROGRESS).
   * @since 1.2.0 capability operation.migrate
   */
  getMigrationProgress?(uuid: string, options?: CallOptions): Promise<MigrationProgress>;
  /**
   * Listen to power transitions of this driver's instances. @since 1.0.0 capability event.lifecycle;
   * transitions no call asked for (the guest shut down or crashed, an operator acted on the
   * backend) @since 1.1.0 capability event.out-of-band
   */
  subscribeEvents?(listener: LifecycleListener): Unsubscribe;
}
