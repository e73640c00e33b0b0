import { hostname } from 'node:os';
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
  type RescueSpec,
  type RestorableState,
  type SnapshotResult,
  type SnapshotSpec,
  type Unsubscribe,
  type Vif,
  type VolumeAttachment,
} from '@nova-common/core';
import type { LibvirtClient } from '../client/libvirt-client.js';
import { LibvirtDriverConfigSchema, type LibvirtDriverConfig, type LibvirtDriverConfigInput } from '../config.js';
import type { DomainType } from '../mapping/domain-xml.js';
import { toContractError } from '../mapping/errors.js';
import { capabilities } from './capabilities.js';
import { DriverContext, type LibvirtDriverHooks } from './context.js';
import * as devices from './devices.js';
import { onLifecycle, recoverMissedEvents } from './events.js';
import * as instances from './instances.js';
import * as inventory from './inventory.js';
import * as lifecycle from './lifecycle.js';
import * as migrationDestination from './migration-destination.js';
import { getMigrationProgress } from './migration-progress.js';
import { migrate } from './migration-source.js';
import * as power from './power.js';
import { loadConfiguredPlugs } from './plugs.js';
import { ensureReady } from './readiness.js';
import * as rescue from './rescue.js';
import * as restore from './restore.js';
import * as snapshots from './snapshots.js';
import { settleAllUndos } from './migration-undo.js';
import { extendVolume } from './volume-extend.js';

/**
 * The libvirt compute driver. Methods receive what the guard parsed (typed, defaulted,
 * lower-case uuids, a deadline-carrying signal) and only speak to libvirtd: each instance
 * operation reads the domain (state and live XML), lets core's semantics table decide, and
 * acts through the remote protocol. The work lives in one module per concern:
 * lifecycle (spawn, destroy, rebuild), power and the transitions it is made of, restore
 * (after a restart), rescue, snapshots, devices, instances (reading them), inventory and
 * placement, events (and which of them were requested), readiness (connect and sweep).
 */
export class LibvirtDriver implements ComputeDriver {
  readonly config: LibvirtDriverConfig;
  private readonly ctx: DriverContext;

  constructor(config: LibvirtDriverConfigInput = {}, hooks: LibvirtDriverHooks = {}) {
    this.config = parseOrInvalid(LibvirtDriverConfigSchema, config, 'createLibvirtDriver', ['config']);
    const ctx = new DriverContext(this.config, hooks);
    this.ctx = ctx;
    ctx.client.on('lifecycle', (m) => onLifecycle(ctx, m));
    ctx.client.on('open', ({ reconnect }) => {
      if (!reconnect) return;
      // Events may have been missed while disconnected: what the index knew is re-read, and
      // listeners hear what changed meanwhile.
      ctx.owned.clear();
      ctx.resyncNeeded = true;
      if (ctx.client.wantsLifecycle) recoverMissedEvents(ctx).catch(() => undefined);
    });
  }

  /** The <domain type> this driver defines: qemu, kvm, or test. */
  get domainType(): DomainType {
    return this.ctx.domainType;
  }

  /** The underlying protocol client (for benchmarks and tests). */
  get libvirt(): LibvirtClient {
    return this.ctx.client;
  }

  // ---- host --------------------------------------------------------------------------

  async initHost(options?: CallOptions): Promise<void> {
    const { ctx } = this;
    const o = options?.signal ? { signal: options.signal } : undefined;
    // A plug that cannot be loaded is a configuration error, before anything is asked of libvirtd.
    await loadConfiguredPlugs(ctx);
    try {
      await ctx.client.connect();
      ctx.nodeName = ctx.config.nodeName ?? (await ctx.client.getHostname(o).catch(() => hostname()));
      // libvirtd sends every domain's lifecycle events to each registered connection: only
      // asked for while someone listens (subscribeEvents).
      if (ctx.listeners.size > 0) await ctx.client.registerLifecycle();
      await inventory.readNodeFacts(ctx, options?.signal);
      ctx.resyncNeeded = true;
    } catch (err) {
      throw toContractError(err, 'initHost');
    }
    await ensureReady(ctx, 'initHost');
  }

  async cleanupHost(): Promise<void> {
    await settleAllUndos(this.ctx);
    await this.ctx.client.deregisterLifecycle().catch(() => undefined);
    await this.ctx.client.close().catch(() => undefined);
  }

  async getCapabilities(): Promise<DriverCapabilities> {
    return capabilities(this.ctx);
  }

  listNodes(): Promise<NodeInfo[]> {
    return inventory.listNodes(this.ctx);
  }

  getInventory(options?: CallOptions): Promise<HostInventory> {
    return inventory.getInventory(this.ctx, options);
  }

  // ---- instances ---------------------------------------------------------------------

  listInstances(options?: CallOptions): Promise<InstanceSummary[]> {
    return instances.listInstances(this.ctx, options);
  }

  getInfo(uuid: string, options?: CallOptions): Promise<InstanceInfo> {
    return instances.getInfo(this.ctx, uuid, options);
  }

  spawn(spec: InstanceSpec, options?: CallOptions): Promise<void> {
    return lifecycle.spawn(this.ctx, spec, options);
  }

  destroy(uuid: string, options?: CallOptions): Promise<void> {
    return lifecycle.destroy(this.ctx, uuid, options);
  }

  rebuild(uuid: string, spec: RebuildSpec, options?: CallOptions): Promise<void> {
    return lifecycle.rebuild(this.ctx, uuid, spec, options);
  }

  // ---- power -------------------------------------------------------------------------

  powerOff(uuid: string, options?: PowerOffOptions): Promise<void> {
    return power.powerOff(this.ctx, uuid, options);
  }

  powerOn(uuid: string, options?: CallOptions): Promise<void> {
    return power.powerOn(this.ctx, uuid, options);
  }

  reboot(uuid: string, type: RebootType, options?: CallOptions): Promise<void> {
    return power.reboot(this.ctx, uuid, type, options);
  }

  pause(uuid: string, options?: CallOptions): Promise<void> {
    return power.pause(this.ctx, uuid, options);
  }

  unpause(uuid: string, options?: CallOptions): Promise<void> {
    return power.unpause(this.ctx, uuid, options);
  }

  suspend(uuid: string, options?: CallOptions): Promise<void> {
    return power.suspend(this.ctx, uuid, options);
  }

  resume(uuid: string, options?: CallOptions): Promise<void> {
    return power.resume(this.ctx, uuid, options);
  }

  /** Bring the instance to the state its caller asked for, after libvirtd or the host restarted. */
  restoreState(uuid: string, desired: RestorableState, options?: CallOptions): Promise<void> {
    return restore.restoreState(this.ctx, uuid, desired, options);
  }

  // ---- rescue and snapshots ----------------------------------------------------------

  rescue(uuid: string, spec: RescueSpec, options?: CallOptions): Promise<void> {
    return rescue.rescue(this.ctx, uuid, spec, options);
  }

  unrescue(uuid: string, options?: CallOptions): Promise<void> {
    return rescue.unrescue(this.ctx, uuid, options);
  }

  snapshot(uuid: string, spec: SnapshotSpec, options?: CallOptions): Promise<SnapshotResult> {
    return snapshots.snapshot(this.ctx, uuid, spec, options);
  }

  deleteSnapshot(imageId: string, options?: CallOptions): Promise<void> {
    return snapshots.deleteSnapshot(this.ctx, imageId, options);
  }

  listSnapshots(options?: CallOptions): Promise<SnapshotResult[]> {
    return snapshots.listSnapshots(this.ctx, options);
  }

  // ---- devices and console (QEMU/KVM; UNSUPPORTED on the test driver) ----------------

  attachVolume(uuid: string, attachment: VolumeAttachment, options?: CallOptions): Promise<void> {
    return devices.attachVolume(this.ctx, uuid, attachment, options);
  }

  detachVolume(uuid: string, volumeId: string, options?: CallOptions): Promise<void> {
    return devices.detachVolume(this.ctx, uuid, volumeId, options);
  }

  extendVolume(uuid: string, volumeId: string, newSizeGb: number, options?: CallOptions): Promise<void> {
    return extendVolume(this.ctx, uuid, volumeId, newSizeGb, options);
  }

  attachInterface(uuid: string, vif: Vif, options?: CallOptions): Promise<void> {
    return devices.attachInterface(this.ctx, uuid, vif, options);
  }

  detachInterface(uuid: string, vifId: string, options?: CallOptions): Promise<void> {
    return devices.detachInterface(this.ctx, uuid, vifId, options);
  }

  getConsoleOutput(uuid: string, options?: CallOptions): Promise<ConsoleOutput> {
    return devices.getConsoleOutput(this.ctx, uuid, options);
  }

  // ---- migration (QEMU/KVM; between libvirt hosts) -----------------------------------

  prepareMigration(request: MigrationRequest, options?: CallOptions): Promise<MigrationTarget> {
    return migrationDestination.prepareMigration(this.ctx, request, options);
  }

  migrate(uuid: string, target: MigrationTarget, options?: CallOptions): Promise<void> {
    return migrate(this.ctx, uuid, target, options);
  }

  finishMigration(migrationId: string): Promise<void> {
    return migrationDestination.finishMigration(this.ctx, migrationId);
  }

  abortMigration(migrationId: string, options?: CallOptions): Promise<void> {
    return migrationDestination.abortMigration(this.ctx, migrationId, options);
  }

  getMigrationProgress(uuid: string, options?: CallOptions): Promise<MigrationProgress> {
    return getMigrationProgress(this.ctx, uuid, options);
  }

  // ---- events ------------------------------------------------------------------------

  /**
   * Listen to lifecycle events, with their cause: `requested` for this driver's own calls,
   * `out-of-band` for the rest (see RequestedTransitions). The first listener asks libvirtd for
   * events; operations called after this wait until the registration is done (ensureReady), so
   * none of their events is missed.
   */
  subscribeEvents(listener: LifecycleListener): Unsubscribe {
    const unsubscribe = this.ctx.listeners.add(listener);
    if (!this.ctx.client.wantsLifecycle) {
      // A failure here is retried by the next connect (ensureReady) and reported by that operation.
      this.ctx.client.registerLifecycle().catch(() => undefined);
    }
    return unsubscribe;
  }
}

/** Create an unconnected libvirt driver; call initHost before anything else. */
export function createLibvirtDriver(config: LibvirtDriverConfigInput = {}, hooks: LibvirtDriverHooks = {}): LibvirtDriver {
  return new LibvirtDriver(config, hooks);
}
