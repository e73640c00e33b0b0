/**
 * The Ironic compute driver: physical machines managed by OpenStack Ironic behave, through the
 * contract, like any other instance. One host manages many nodes; each instance owns one node.
 * The class only routes each operation to the module of its concern (nodes, placement, deploy,
 * teardown, power, rescue, interfaces, events); the guard in front of it has already parsed the
 * arguments, serialised calls per instance and put the call's deadline into its signal.
 */
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
  type NodeInfo,
  type PowerOffOptions,
  type RebootType,
  type RebuildSpec,
  type RescueSpec,
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
import { getConsoleOutput, getInfo, getInventory, listInstances, listNodes } from './nodes.js';
import { powerOff, powerOn, reboot } from './power.js';
import { rescue, unrescue } from './rescue.js';

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
  }

  async cleanupHost(): Promise<void> {
    this.ctx.watcher.close();
    this.ctx.events.clear();
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
    return spawn(this.ctx, spec, options?.signal);
  }

  destroy(uuid: string, options?: CallOptions): Promise<void> {
    return destroy(this.ctx, uuid, options?.signal);
  }

  rebuild(uuid: string, spec: RebuildSpec, options?: CallOptions): Promise<void> {
    return rebuild(this.ctx, uuid, spec, options?.signal);
  }

  // ---- power and rescue ---------------------------------------------------------------

  powerOff(uuid: string, options?: PowerOffOptions): Promise<void> {
    return powerOff(this.ctx, uuid, options?.gracefulTimeoutMs ?? 0, options?.signal);
  }

  powerOn(uuid: string, options?: CallOptions): Promise<void> {
    return powerOn(this.ctx, uuid, options?.signal);
  }

  reboot(uuid: string, type: RebootType, options?: CallOptions): Promise<void> {
    return reboot(this.ctx, uuid, type, options?.signal);
  }

  rescue(uuid: string, spec: RescueSpec, options?: CallOptions): Promise<void> {
    return rescue(this.ctx, uuid, spec, options?.signal);
  }

  unrescue(uuid: string, options?: CallOptions): Promise<void> {
    return unrescue(this.ctx, uuid, options?.signal);
  }

  // ---- interfaces, console, events ----------------------------------------------------

  attachInterface(uuid: string, vif: Vif, options?: CallOptions): Promise<void> {
    return attachInterface(this.ctx, uuid, vif, options?.signal);
  }

  detachInterface(uuid: string, vifId: string, options?: CallOptions): Promise<void> {
    return detachInterface(this.ctx, uuid, vifId, options?.signal);
  }

  getConsoleOutput(uuid: string, options?: CallOptions): Promise<ConsoleOutput> {
    return getConsoleOutput(this.ctx, uuid, options?.signal);
  }

  subscribeEvents(listener: LifecycleListener): Unsubscribe {
    return this.ctx.events.subscribe(listener);
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
