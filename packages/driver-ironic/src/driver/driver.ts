/**
 * The Ironic compute driver: physical machines managed by OpenStack Ironic behave, through the
 * contract, like any other instance. One host manages many nodes; each instance owns one node.
 * The class only routes each operation to the module of its concern (nodes, placement, deploy,
 * teardown, power, rescue, interfaces, events); the guard in front of it has already parsed the
 * arguments, serialised calls per instance and put the call's deadline into its signal.
 */
import {
  isDriverError,
  parseOrInvalid,
  type ErrorCode,
  type CallOptions,
  type ComputeDriver,
  type ConsoleOutput,
  type DriverCapabilities,
  type HostInventory,
  type InstanceInfo,
  type InstanceSpec,
  type InstanceSummary,
  type LifecycleListener,
  type NodeInfo,
  type PowerOffOptions,
  type RebootType,
  type RebuildSpec,
  type RescueSpec,
  type RestorableState,
  type Unsubscribe,
  type Vif,
} from '@nova-common/core';
import type { IronicClient } from '../client/client.js';
import { IronicDriverConfigSchema, type IronicDriverConfig, type IronicDriverConfigInput } from '../config.js';
import { toContractError } from '../mapping/errors.js';
import { capabilitiesOf } from './capabilities.js';
import { IronicContext } from './context.js';
import { destroy, rebuild, spawn } from './deploy.js';
import { attachInterface, detachInterface } from './interfaces.js';
import { recoverManagedNodes } from './node-recovery.js';
import { getConsoleOutput, getInfo, getInventory, listInstances, listNodes } from './nodes.js';
import { powerOff, powerOn, reboot } from './power.js';
import { rescue, unrescue } from './rescue.js';
import { restoreState } from './restore.js';
import { release } from './teardown.js';

/** Errors a call raises before it changes anything on the backend. */
const REFUSED_BEFORE_ACTING: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'INSTANCE_NOT_FOUND',
  'INVALID_STATE',
  'UNSUPPORTED',
  'INVALID_INPUT',
  'INSTANCE_EXISTS',
  'INTERFACE_ALREADY_ATTACHED',
  'INTERFACE_NOT_ATTACHED',
]);

/** Counters for the benchmark and diagnostics (not part of the contract). */
export interface IronicDriverStats {
  requests: number;
  retries: number;
  watcherLists: number;
  watcherGets: number;
}

export class IronicDriver implements ComputeDriver {
  private readonly ctx: IronicContext;

  constructor(readonly config: IronicDriverConfig) {
    this.ctx = new IronicContext(config);
  }

  /** The Ironic client (tests and the conformance fixtures read Ironic's own view through it). */
  get client(): IronicClient {
    return this.ctx.client;
  }

  get stats(): IronicDriverStats {
    const { http } = this.ctx.client;
    return { requests: http.stats.requests, retries: http.stats.retries, watcherLists: this.ctx.watcher.stats.lists, watcherGets: this.ctx.watcher.stats.gets };
  }

  // ---- host ---------------------------------------------------------------------------

  async initHost(options?: CallOptions): Promise<void> {
    try {
      await this.ctx.client.negotiate(this.config.microversion, options?.signal);
      this.ctx.connected = true;
    } catch (e) {
      throw toContractError(e, { op: 'initHost' });
    }
    // Free nodes Ironic left failed (a destroy cut short while cleaning, ...) back to the pool;
    // best effort: what cannot be recovered now is reported unavailable, and spawn looks again.
    await recoverManagedNodes(this.ctx, options?.signal);
  }

  async cleanupHost(): Promise<void> {
    // Reservations of spawns that failed while Ironic was away: a service that stops gives them back
    // if Ironic answers now (best effort; otherwise a later spawn of the uuid, or the holder check,
    // releases them).
    for (const [uuid, vifs] of [...this.ctx.unreleased]) {
      if (!this.ctx.connected) break;
      await release(this.ctx, uuid, vifs).then(
        () => this.ctx.unreleased.delete(uuid),
        () => undefined,
      );
    }
    this.ctx.watcher.close();
    this.ctx.events.clear(); // also stops the out-of-band poller
    await this.ctx.client.close();
    this.ctx.connected = false;
  }

  async getCapabilities(): Promise<DriverCapabilities> {
    return capabilitiesOf(this.config);
  }

  listNodes(options?: CallOptions): Promise<NodeInfo[]> {
    return listNodes(this.ctx, options?.signal);
  }

  getInventory(options?: CallOptions): Promise<HostInventory> {
    return getInventory(this.ctx, options?.signal);
  }

  listInstances(options?: CallOptions): Promise<InstanceSummary[]> {
    return listInstances(this.ctx, options?.signal);
  }

  getInfo(uuid: string, options?: CallOptions): Promise<InstanceInfo> {
    return getInfo(this.ctx, uuid, options?.signal);
  }

  // ---- deploy -------------------------------------------------------------------------

  spawn(spec: InstanceSpec, options?: CallOptions): Promise<void> {
    return this.acting(spec.uuid, () => spawn(this.ctx, spec, options?.signal));
  }

  destroy(uuid: string, options?: CallOptions): Promise<void> {
    return this.acting(uuid, () => destroy(this.ctx, uuid, options?.signal));
  }

  rebuild(uuid: string, spec: RebuildSpec, options?: CallOptions): Promise<void> {
    return this.acting(uuid, () => rebuild(this.ctx, uuid, spec, options?.signal));
  }

  // ---- power, rescue, restore ---------------------------------------------------------

  /** The guard always passes gracefulTimeoutMs (60 s unless the caller says otherwise). */
  powerOff(uuid: string, options?: PowerOffOptions): Promise<void> {
    return this.acting(uuid, () => powerOff(this.ctx, uuid, options?.gracefulTimeoutMs ?? 0, options?.signal));
  }

  powerOn(uuid: string, options?: CallOptions): Promise<void> {
    return this.acting(uuid, () => powerOn(this.ctx, uuid, options?.signal));
  }

  reboot(uuid: string, type: RebootType, options?: CallOptions): Promise<void> {
    return this.acting(uuid, () => reboot(this.ctx, uuid, type, options?.signal));
  }

  rescue(uuid: string, spec: RescueSpec, options?: CallOptions): Promise<void> {
    return this.acting(uuid, () => rescue(this.ctx, uuid, spec, options?.signal));
  }

  unrescue(uuid: string, options?: CallOptions): Promise<void> {
    return this.acting(uuid, () => unrescue(this.ctx, uuid, options?.signal));
  }

  restoreState(uuid: string, desired: RestorableState, options?: CallOptions): Promise<void> {
    return this.acting(uuid, () => restoreState(this.ctx, uuid, desired, options?.signal));
  }

  // ---- interfaces, console, events ----------------------------------------------------

  attachInterface(uuid: string, vif: Vif, options?: CallOptions): Promise<void> {
    return this.acting(uuid, () => attachInterface(this.ctx, uuid, vif, options?.signal));
  }

  detachInterface(uuid: string, vifId: string, options?: CallOptions): Promise<void> {
    return this.acting(uuid, () => detachInterface(this.ctx, uuid, vifId, options?.signal));
  }

  getConsoleOutput(uuid: string, options?: CallOptions): Promise<ConsoleOutput> {
    return getConsoleOutput(this.ctx, uuid, options?.signal);
  }

  subscribeEvents(listener: LifecycleListener): Unsubscribe {
    return this.ctx.events.subscribe(listener);
  }

  /**
   * Run a call that acts on instance `uuid`: while it runs, changes on the instance are its own
   * (`requested`), never out-of-band (events.ts).
   */
  private async acting<T>(uuid: string, call: () => Promise<T>): Promise<T> {
    this.ctx.events.begin(uuid);
    try {
      const result = await call();
      this.ctx.events.end(uuid, true);
      return result;
    } catch (e) {
      // Refused before acting: nothing changed. Otherwise what the call left is unknown.
      this.ctx.events.end(uuid, isDriverError(e) && REFUSED_BEFORE_ACTING.has(e.code));
      throw e;
    }
  }
}

/**
 * Create an unconnected Ironic driver (call initHost next). The configuration is parsed with
 * core's parseOrInvalid: a bad one throws INVALID_INPUT naming each field under `config`.
 * Consumers call it through core's guard (loadDriver does that).
 */
export function createIronicDriver(config: IronicDriverConfigInput = {}): IronicDriver {
  return new IronicDriver(parseOrInvalid(IronicDriverConfigSchema, config, 'createIronicDriver', ['config']));
}
