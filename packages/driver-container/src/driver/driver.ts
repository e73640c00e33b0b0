import {
  parseOrInvalid,
  type CallOptions,
  type ComputeDriver,
  type ConsoleOutput,
  type DriverCapabilities,
  type HostInventory,
  type InstanceInfo,
  type InstanceSpec,
  type InstanceSummary,
  type LifecycleListener,
  type MigrationRequest,
  type MigrationProgress,
  type MigrationTarget,
  type NodeInfo,
  type PowerOffOptions,
  type RebootType,
  type RebuildSpec,
  type RestorableState,
  type SnapshotResult,
  type SnapshotSpec,
  type Unsubscribe,
  type Vif,
  type VolumeAttachment,
} from '@nova-common/core';
import { ContainerDriverConfigSchema, type ContainerDriverConfigInput } from '../config.js';
import { toContractError } from '../mapping/errors.js';
import { capabilitiesOf } from './capabilities.js';
import { EngineContext, type ContainerDriverOptions } from './context.js';
import { attachInterface, attachVolume, detachInterface, detachVolume } from './devices.js';
import { acceptedVifTypes, vifTypeRefusal } from './vif-types.js';
import { EventStream } from './events.js';
import { initHost } from './host.js';
import { getConsoleOutput, getInfo, listInstances } from './instances.js';
import { getInventory } from './inventory.js';
import { migrate } from './migration.js';
import { getMigrationProgress } from './migration-progress.js';
import { settleAllUndos } from './migration-undo.js';
import { abortMigration, finishMigration, prepareMigration } from './reservations.js';
import { destroy, rebuild, spawn } from './lifecycle.js';
import { pause, powerOff, powerOn, reboot, unpause } from './power.js';
import { restoreState } from './restore.js';
import { deleteSnapshot, listSnapshots, snapshot } from './snapshots.js';

/**
 * The container compute driver. An instance is one container named `<prefix>-<uuid>`,
 * labelled as owned; its power state is the container's state; its VIFs are endpoints on
 * internal engine networks; its volumes are bind mounts and device mappings from the
 * allowlisted root. Every answer is read from the engine; the driver keeps no instance
 * state of its own besides in-flight spawns and removals it still owes.
 *
 * Used behind core's guard, which parses every argument (uuids in lower case), serialises the
 * calls on one instance and carries each call's deadline in its signal. Each method here turns
 * the engine's answers into the contract's; suspend, resume, rescue and extend-volume are
 * declared missing and have no method. Calls that act on an instance are recorded while they run
 * (`acting`), so the engine's events of that instance read as `requested` (driver/activity.ts).
 */
export class ContainerDriver implements ComputeDriver {
  private readonly ctx: EngineContext;
  private events: EventStream | undefined;

  constructor(config: ContainerDriverConfigInput = {}, hooks: ContainerDriverOptions = {}) {
    this.ctx = new EngineContext(parseOrInvalid(ContainerDriverConfigSchema, config, 'createContainerDriver', ['config']), hooks);
  }

  // ---- host -------------------------------------------------------------------------

  initHost(options?: CallOptions): Promise<void> {
    return mapped('initHost', undefined, () => initHost(this.ctx, options?.signal));
  }

  async cleanupHost(_options?: CallOptions): Promise<void> {
    this.events?.close();
    this.events = undefined;
    this.ctx.removals.stop();
    // One last try at what failed migrations still owe their destinations (the engine was away).
    await settleAllUndos(this.ctx);
    // One last try at what a failed spawn left behind.
    await this.ctx.removals.flush().catch(() => undefined);
    await this.ctx.disconnect();
  }

  async getCapabilities(_options?: CallOptions): Promise<DriverCapabilities> {
    return capabilitiesOf(this.ctx.differences.kind, this.ctx.macHonoured, {
      vifPlugin: this.ctx.vifPlugin !== undefined,
      vifTypes: acceptedVifTypes(this.ctx),
      ...(this.ctx.volumeConnector !== undefined ? { volumeTransports: this.ctx.volumeConnector.transports } : {}),
    });
  }

  async listNodes(_options?: CallOptions): Promise<NodeInfo[]> {
    return [{ id: this.ctx.host.node, available: true }];
  }

  getInventory(options?: CallOptions): Promise<HostInventory> {
    return mapped('getInventory', undefined, () => getInventory(this.ctx, options?.signal));
  }

  // ---- instances --------------------------------------------------------------------

  listInstances(options?: CallOptions): Promise<InstanceSummary[]> {
    return mapped('listInstances', undefined, () => listInstances(this.ctx, options?.signal));
  }

  getInfo(uuid: string, options?: CallOptions): Promise<InstanceInfo> {
    return mapped('getInfo', uuid, () => getInfo(this.ctx, uuid, options?.signal));
  }

  spawn(spec: InstanceSpec, options?: CallOptions): Promise<void> {
    const refused = vifTypeRefusal(this.ctx, 'spawn', spec.uuid, spec.networkInfo.map((vif, i) => ({ vif, path: ['spec', 'networkInfo', i] })));
    if (refused !== undefined) return Promise.reject(refused);
    return this.acting('spawn', spec.uuid, () => spawn(this.ctx, spec, options?.signal));
  }

  destroy(uuid: string, options?: CallOptions): Promise<void> {
    return this.acting('destroy', uuid, () => destroy(this.ctx, uuid, options?.signal));
  }

  rebuild(uuid: string, spec: RebuildSpec, options?: CallOptions): Promise<void> {
    return this.acting('rebuild', uuid, () => rebuild(this.ctx, uuid, spec, options?.signal));
  }

  getConsoleOutput(uuid: string, options?: CallOptions): Promise<ConsoleOutput> {
    return mapped('getConsoleOutput', uuid, () => getConsoleOutput(this.ctx, uuid, options?.signal));
  }

  // ---- power ------------------------------------------------------------------------

  powerOff(uuid: string, options?: PowerOffOptions): Promise<void> {
    return this.acting('powerOff', uuid, () => powerOff(this.ctx, uuid, options?.gracefulTimeoutMs, options?.signal));
  }

  powerOn(uuid: string, options?: CallOptions): Promise<void> {
    return this.acting('powerOn', uuid, () => powerOn(this.ctx, uuid, options?.signal));
  }

  reboot(uuid: string, type: RebootType, options?: CallOptions): Promise<void> {
    return this.acting('reboot', uuid, () => reboot(this.ctx, uuid, type, options?.signal));
  }

  pause(uuid: string, options?: CallOptions): Promise<void> {
    return this.acting('pause', uuid, () => pause(this.ctx, uuid, options?.signal));
  }

  unpause(uuid: string, options?: CallOptions): Promise<void> {
    return this.acting('unpause', uuid, () => unpause(this.ctx, uuid, options?.signal));
  }

  restoreState(uuid: string, desired: RestorableState, options?: CallOptions): Promise<void> {
    return this.acting('restoreState', uuid, () => restoreState(this.ctx, uuid, desired, options?.signal));
  }

  // ---- snapshots --------------------------------------------------------------------

  snapshot(uuid: string, spec: SnapshotSpec, options?: CallOptions): Promise<SnapshotResult> {
    return this.acting('snapshot', uuid, () => snapshot(this.ctx, uuid, spec, options?.signal));
  }

  deleteSnapshot(imageId: string, options?: CallOptions): Promise<void> {
    return mapped('deleteSnapshot', imageId, () => deleteSnapshot(this.ctx, imageId, options?.signal));
  }

  listSnapshots(options?: CallOptions): Promise<SnapshotResult[]> {
    return mapped('listSnapshots', undefined, () => listSnapshots(this.ctx, options?.signal));
  }

  // ---- devices ----------------------------------------------------------------------

  attachVolume(uuid: string, attachment: VolumeAttachment, options?: CallOptions): Promise<void> {
    return this.acting('attachVolume', uuid, () => attachVolume(this.ctx, uuid, attachment, options?.signal));
  }

  detachVolume(uuid: string, volumeId: string, options?: CallOptions): Promise<void> {
    return this.acting('detachVolume', uuid, () => detachVolume(this.ctx, uuid, volumeId, options?.signal));
  }

  attachInterface(uuid: string, vif: Vif, options?: CallOptions): Promise<void> {
    const refused = vifTypeRefusal(this.ctx, 'attachInterface', uuid, [{ vif, path: ['vif'] }]);
    if (refused !== undefined) return Promise.reject(refused);
    return this.acting('attachInterface', uuid, () => attachInterface(this.ctx, uuid, vif, options?.signal));
  }

  detachInterface(uuid: string, vifId: string, options?: CallOptions): Promise<void> {
    return this.acting('detachInterface', uuid, () => detachInterface(this.ctx, uuid, vifId, options?.signal));
  }

  // ---- migration (contract 1.2.0): COLD between engines and resize in place; LIVE is missing ----

  prepareMigration(request: MigrationRequest, options?: CallOptions): Promise<MigrationTarget> {
    return mapped('prepareMigration', request.instance.uuid, () => prepareMigration(this.ctx, request, options?.signal));
  }

  migrate(uuid: string, target: MigrationTarget, options?: CallOptions): Promise<void> {
    return this.acting('migrate', uuid, () => migrate(this.ctx, uuid, target, options?.signal));
  }

  finishMigration(migrationId: string, options?: CallOptions): Promise<void> {
    return mapped('finishMigration', migrationId, () => finishMigration(this.ctx, migrationId, options?.signal));
  }

  abortMigration(migrationId: string, options?: CallOptions): Promise<void> {
    return mapped('abortMigration', migrationId, () => abortMigration(this.ctx, migrationId, options?.signal));
  }

  /** A read: not queued behind the migrate it watches (acting() would be). */
  getMigrationProgress(uuid: string, options?: CallOptions): Promise<MigrationProgress> {
    return mapped('getMigrationProgress', uuid, () => getMigrationProgress(this.ctx, uuid, options?.signal));
  }

  // ---- events -----------------------------------------------------------------------

  subscribeEvents(listener: LifecycleListener): Unsubscribe {
    this.events ??= new EventStream(this.ctx);
    return this.events.subscribe(listener);
  }

  /** An operation that acts on instance `uuid`: mapped like any other, and recorded while it runs. */
  private async acting<T>(op: string, uuid: string, work: () => Promise<T>): Promise<T> {
    const end = this.ctx.activity.begin(uuid);
    try {
      return await mapped(op, uuid, work);
    } finally {
      end();
    }
  }
}

/** Run one operation; whatever the engine answered that the operation did not handle becomes a contract error. */
async function mapped<T>(op: string, target: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toContractError(err, op, target);
  }
}

/** Create an unconnected container driver; call initHost before anything else. */
export function createContainerDriver(config: ContainerDriverConfigInput = {}, hooks: ContainerDriverOptions = {}): ContainerDriver {
  return new ContainerDriver(config, hooks);
}
