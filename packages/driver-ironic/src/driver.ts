/**
 * The Ironic compute driver: physical machines managed by OpenStack Ironic behave, through
 * the contract, like any other instance. One host manages many nodes; each instance owns
 * one node. Everything is read from Ironic on each call (no node cache): a host's whole view
 * is a few paginated list calls.
 */
import {
  DriverError,
  SEMANTICS,
  declareCapabilities,
  errors,
  expectedUsage,
  type AttachedInterface,
  type CallOptions,
  type ComputeDriver,
  type ConsoleOutput,
  type DriverCapabilities,
  type HostInventory,
  type InstanceInfo,
  type InstanceSpec,
  type InstanceSummary,
  type LifecycleEventKind,
  type LifecycleListener,
  type NodeInfo,
  type PowerOffOptions,
  type RebootType,
  type RebuildSpec,
  type RescueSpec,
  type SemanticState,
  type TableOperation,
  type Unsubscribe,
  type Vif,
} from '@nova-common/core';
import { randomBytes } from 'node:crypto';
import { IronicClient, IronicApiError } from './client/client.js';
import type { Query } from './client/http.js';
import { INVENTORY_FIELDS, STATE_FIELDS, type IronicNode } from './client/types.js';
import type { PowerTarget } from './client/endpoints/states.js';
import type { IronicDriverConfig } from './config.js';
import { BinaryUserDataError, buildConfigDrive } from './mapping/configdrive.js';
import { toContractError, type ErrorContext } from './mapping/errors.js';
import {
  isOurs,
  readOwnerRecord,
  rebuildPatch,
  releasePatch,
  requiredTraits,
  reservePatch,
  vifsPatch,
  type OwnerRecord,
} from './mapping/instance-info.js';
import { nodeInventoryOf } from './mapping/inventory.js';
import { customResourceClass, nodeAvailability, nodeInfoOf, powerStateOfNode, semanticStateOf, modeOfNode } from './mapping/state.js';
import { NodeWatcher, WaitFailedError, WaitTimeoutError, type Verdict } from './wait/node-watcher.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Provision states where a teardown has nothing left to do for the instance. */
const TORN_DOWN = new Set(['cleaning', 'clean wait', 'available', 'clean failed', 'manageable', 'enroll']);
/** Provision states in which no conductor work is running (a failed state keeps its target set). */
const SETTLED = new Set(['active', 'available', 'deploy failed', 'error', 'rescue', 'rescue failed', 'unrescue failed', 'clean failed', 'manageable', 'enroll', 'inspect failed', 'adopt failed']);
const settled = (n: IronicNode) => SETTLED.has(n.provision_state ?? '') && !n.target_power_state;
/** Provision states Ironic accepts `deleted` from. */
const UNDEPLOYABLE = new Set(['active', 'deploy failed', 'error', 'wait call-back', 'rescue', 'rescue failed', 'unrescue failed', 'rescue wait']);

type Running = 'RUNNING' | 'RESCUE';
const isUp = (s: SemanticState): s is Running => s === 'RUNNING' || s === 'RESCUE';

/** Counters for the benchmark and diagnostics (not part of the contract). */
export interface IronicDriverStats {
  requests: number;
  retries: number;
  watcherLists: number;
  watcherGets: number;
}

export class IronicDriver implements ComputeDriver {
  readonly client: IronicClient;
  private readonly watcher: NodeWatcher;
  private readonly listeners = new Set<LifecycleListener>();
  /** Nodes a spawn of this process is reserving right now, so concurrent spawns pick different ones. */
  private readonly claiming = new Set<string>();
  private connected = false;

  constructor(readonly config: IronicDriverConfig) {
    this.client = new IronicClient({
      endpoint: config.endpoint,
      connections: config.connections,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      retry: config.conflictRetry,
    });
    // The watcher's list call covers only nodes with an instance: every node a wait is about has
    // one (a deploy, a power action, a teardown until it completes), and it is far cheaper than
    // listing the whole pool (1,000 nodes cost ~300 ms of Ironic's time, 200 deploying ones ~60).
    this.watcher = new NodeWatcher(this.client, config.poll, { ...this.filterQuery(), associated: true }, config.pageSize);
  }

  get stats(): IronicDriverStats {
    return {
      requests: this.client.http.stats.requests,
      retries: this.client.http.stats.retries,
      watcherLists: this.watcher.stats.lists,
      watcherGets: this.watcher.stats.gets,
    };
  }

  // ---- host ---------------------------------------------------------------------------

  async initHost(options?: CallOptions): Promise<void> {
    const op = 'initHost';
    try {
      await this.client.negotiate(this.config.microversion, options?.signal);
      this.connected = true;
    } catch (e) {
      throw toContractError(e, { op });
    }
  }

  async cleanupHost(): Promise<void> {
    this.watcher.close();
    this.listeners.clear();
    await this.client.close();
    this.connected = false;
  }

  async getCapabilities(): Promise<DriverCapabilities> {
    const caps = declareCapabilities({
      supported: [
        'operation.launch',
        'operation.terminate',
        'operation.get-guest-info',
        'storage.image',
        'operation.power-on-off',
        'operation.reboot',
        'operation.attach-interface',
        'operation.detach-interface',
        'operation.rebuild',
        ...(this.config.events ? (['event.lifecycle'] as const) : []),
      ],
      partial: {
        'storage.image':
          'The image is passed to Ironic as instance_info.image_source (imageSourceTemplate); user data must be UTF-8 text (JSON config drive).',
        'operation.rescue': 'Ironic boots its configured rescue ramdisk: RescueSpec.image is not used; adminPassword becomes the rescue password.',
        'console.serial.log': 'Ironic exposes an interactive console, not a log: the output describes the node\'s console (enabled, type, URL).',
        ...(this.config.events
          ? { 'event.lifecycle': 'Events for power transitions made through this driver; Ironic pushes none, so changes made elsewhere are not reported.' }
          : {}),
      },
      multiNode: true,
      volumeTransports: [],
      eventualConsistency: {
        // destroy returns once Ironic has torn the node down and cleared instance_uuid: usage is released at once.
        resourceReleaseMs: 0,
        // events are emitted before the operation resolves.
        eventDeliveryMs: 0,
        nodeAvailableMs: this.config.nodeAvailableMs,
      },
    });
    return caps;
  }

  async listNodes(options?: CallOptions): Promise<NodeInfo[]> {
    const nodes = await this.call({ op: 'listNodes' }, () => this.managedNodes([...STATE_FIELDS, 'resource_class', 'instance_info'], options?.signal));
    return nodes.map((n) => nodeInfoOf(n, isOurs(n, this.config.hostId)));
  }

  async getInventory(options?: CallOptions): Promise<HostInventory> {
    const nodes = await this.call({ op: 'getInventory' }, () => this.managedNodes(INVENTORY_FIELDS, options?.signal));
    return { nodes: nodes.map((n) => nodeInventoryOf(n, isOurs(n, this.config.hostId))) };
  }

  async listInstances(options?: CallOptions): Promise<InstanceSummary[]> {
    const nodes = await this.call({ op: 'listInstances' }, () =>
      this.managedNodes(['uuid', 'instance_uuid', 'instance_info'], options?.signal, { associated: true }),
    );
    const out: InstanceSummary[] = [];
    for (const n of nodes) {
      const rec = readOwnerRecord(n);
      if (!n.instance_uuid || rec?.owner !== this.config.hostId) continue;
      out.push({ uuid: n.instance_uuid, name: rec.name, node: n.uuid, metadata: { ...rec.metadata } });
    }
    return out.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  }

  async getInfo(uuid: string, options?: CallOptions): Promise<InstanceInfo> {
    const op = 'getInfo';
    checkUuid(uuid, op);
    const node = await this.requireInstance(uuid, op, options?.signal);
    return this.infoOf(uuid, node);
  }

  // ---- spawn / destroy ----------------------------------------------------------------

  async spawn(spec: InstanceSpec, options?: CallOptions): Promise<void> {
    const op = 'spawn';
    const signal = options?.signal;
    checkUuid(spec.uuid, op);
    this.requireConnected();
    if (spec.blockDeviceInfo.volumes.length > 0) {
      throw errors.invalidInput([{ path: ['blockDeviceInfo', 'volumes'], message: 'this driver attaches no volumes (no volume transport)' }], op);
    }
    let configdrive: ReturnType<typeof buildConfigDrive>;
    try {
      configdrive = buildConfigDrive(spec);
    } catch (e) {
      if (e instanceof BinaryUserDataError) throw errors.invalidInput([{ path: ['userData'], message: e.message }], op);
      throw toContractError(e, { op });
    }
    // No look-up first: Ironic keeps instance_uuid unique, so the reservation itself answers
    // 409 "already associated" for an existing instance (INSTANCE_EXISTS below), one request fewer.
    let node: IronicNode | undefined;
    let stage = 'reserving';
    try {
      node = await this.reserve(spec, signal);
      const nodeUuid = node.uuid;
      stage = 'validating';
      const verdict = await this.client.nodes.validate(nodeUuid, signal);
      for (const iface of ['power', 'deploy'] as const) {
        if (verdict[iface]?.result === false) {
          throw new DriverError('NODE_UNAVAILABLE', { op, target: nodeUuid, detail: `Ironic validation of ${iface} failed: ${verdict[iface]?.reason ?? 'no reason given'}` });
        }
      }
      stage = 'attaching interfaces';
      for (const vif of spec.networkInfo) await this.client.vifs.attach(nodeUuid, vif.id, signal);
      stage = 'deploying';
      await this.client.states.provision(nodeUuid, 'active', { configdrive }, signal);
      const deployed = await this.waitFor(nodeUuid, 'deploy', this.config.deployTimeoutMs, signal, (n) => {
        if (n.provision_state === 'active' && !n.target_provision_state) return 'done';
        if (n.provision_state === 'deploy failed' || n.provision_state === 'error') return { fail: n.last_error ?? `deploy ended in ${n.provision_state}` };
        if (n.provision_state === 'available' && !n.target_provision_state) return { fail: 'the deploy did not start' };
        return 'continue';
      });
      stage = 'powering';
      const final = await this.ensurePower(deployed, spec.powerOn ? 'power on' : 'power off', signal);
      if (powerStateOfNode(final) === 'RUNNING') this.emit(spec.uuid, 'STARTED', final);
    } catch (e) {
      // INSTANCE_EXISTS: the uuid belongs to an existing instance, which must stay as it is.
      if (e instanceof DriverError && e.code === 'INSTANCE_EXISTS') throw e;
      // Anything else: undo whatever happened, including a reservation whose answer we never
      // got (aborted or timed out while Ironic applied it): look the instance up afresh.
      const released = await this.release(spec.uuid, spec.networkInfo).then(
        () => undefined,
        (err: unknown) => err,
      );
      throw this.spawnError(e, stage, node?.uuid ?? spec.node ?? '', spec.uuid, released);
    }
  }

  async destroy(uuid: string, options?: CallOptions): Promise<void> {
    const op = 'destroy';
    checkUuid(uuid, op);
    const signal = options?.signal;
    const node = await this.call({ op, target: uuid }, () => this.nodeOfInstance(uuid, signal));
    if (!node) return; // idempotent; and a node with someone else's instance is never touched
    const before = semanticStateOf(node);
    const rec = readOwnerRecord(node);
    await this.call({ op, target: uuid }, () => this.teardown(node.uuid, uuid, rec?.vifs ?? [], signal, node));
    if (isUp(before)) this.emit(uuid, 'STOPPED', { ...node, power_state: 'power off', provision_state: 'available' });
  }

  // ---- power --------------------------------------------------------------------------

  async powerOff(uuid: string, options?: PowerOffOptions): Promise<void> {
    const op = 'powerOff';
    const { node, noop, state } = await this.enter(op, 'powerOff', uuid, options?.signal);
    if (noop) return;
    const graceful = options?.gracefulTimeoutMs ?? 0;
    await this.call({ op, target: uuid, currentState: state }, async () => {
      let done: IronicNode | undefined;
      if (graceful > 0 && node.power_state === 'power on') {
        done = await this.powerAction(node.uuid, 'soft power off', 'power off', Math.max(1, Math.ceil(graceful / 1000)), options?.signal).catch((e: unknown) => {
          if (e instanceof WaitFailedError || (e instanceof IronicApiError && e.kind === 'bad-request')) return undefined; // fall back to hard
          throw e;
        });
      }
      done ??= await this.powerAction(node.uuid, 'power off', 'power off', undefined, options?.signal);
      this.afterTransition(uuid, state, done);
    });
  }

  async powerOn(uuid: string, options?: CallOptions): Promise<void> {
    const op = 'powerOn';
    const { node, noop, state } = await this.enter(op, 'powerOn', uuid, options?.signal);
    if (noop) return;
    await this.call({ op, target: uuid, currentState: state }, async () => {
      const done = await this.powerAction(node.uuid, 'power on', 'power on', undefined, options?.signal);
      this.afterTransition(uuid, state, done);
    });
  }

  async reboot(uuid: string, type: RebootType, options?: CallOptions): Promise<void> {
    const op = 'reboot';
    if (type !== 'SOFT' && type !== 'HARD') throw errors.invalidInput([{ path: ['type'], message: 'must be SOFT or HARD' }], op);
    const { node, state } = await this.enter(op, type === 'SOFT' ? 'rebootSoft' : 'rebootHard', uuid, options?.signal);
    await this.call({ op, target: uuid, currentState: state }, async () => {
      let done: IronicNode | undefined;
      if (node.power_state !== 'power on') {
        // Rebooting a machine that is off means starting it (Ironic's reboot would too).
        done = await this.powerAction(node.uuid, 'power on', 'power on', undefined, options?.signal);
      } else if (type === 'SOFT') {
        done = await this.powerAction(node.uuid, 'soft rebooting', 'power on', this.config.softTimeoutS, options?.signal).catch((e: unknown) => {
          if (e instanceof WaitFailedError || (e instanceof IronicApiError && e.kind === 'bad-request')) return undefined; // fall back to hard
          throw e;
        });
      }
      done ??= await this.powerAction(node.uuid, 'rebooting', 'power on', undefined, options?.signal);
      this.afterTransition(uuid, state, done);
    });
  }

  // ---- rebuild / rescue ---------------------------------------------------------------

  async rebuild(uuid: string, spec: RebuildSpec, options?: CallOptions): Promise<void> {
    const op = 'rebuild';
    const signal = options?.signal;
    const { node, state } = await this.enter(op, 'rebuild', uuid, signal);
    const rec = readOwnerRecord(node)!;
    await this.call({ op, target: uuid, currentState: state }, async () => {
      const patched = await this.client.nodes.patch(
        node.uuid,
        rebuildPatch(rec, spec.image, spec.metadata, spec.preserveEphemeral, this.config),
        signal,
      );
      const next = readOwnerRecord(patched) ?? rec;
      const configdrive = buildConfigDrive({
        uuid,
        name: next.name,
        metadata: next.metadata,
        networkInfo: [],
      });
      configdrive.network_data = networkDataFromRecord(next);
      await this.client.states.provision(node.uuid, 'rebuild', { configdrive }, signal);
      const rebuilt = await this.waitFor(node.uuid, 'deploy', this.config.deployTimeoutMs, signal, (n) => {
        if (n.provision_state === 'active' && !n.target_provision_state) return 'done';
        if (n.provision_state === 'deploy failed' || n.provision_state === 'error') return { fail: n.last_error ?? `rebuild ended in ${n.provision_state}` };
        return 'continue';
      });
      const done = await this.ensurePower(rebuilt, 'power on', signal);
      this.afterTransition(uuid, state, done);
    });
  }

  async rescue(uuid: string, spec: RescueSpec, options?: CallOptions): Promise<void> {
    const op = 'rescue';
    const signal = options?.signal;
    const { node, noop, state } = await this.enter(op, 'rescue', uuid, signal);
    if (noop) return;
    await this.call({ op, target: uuid, currentState: state }, async () => {
      let current = node;
      if (current.provision_state !== 'rescue') {
        const password = spec.adminPassword && spec.adminPassword.length > 0 ? spec.adminPassword : randomBytes(12).toString('base64url');
        await this.client.states.provision(node.uuid, 'rescue', { rescue_password: password }, signal);
        current = await this.waitFor(node.uuid, 'rescue', this.config.actionTimeoutMs, signal, (n) => {
          if (n.provision_state === 'rescue' && !n.target_provision_state) return 'done';
          if (n.provision_state === 'rescue failed' || n.provision_state === 'error') return { fail: n.last_error ?? `rescue ended in ${n.provision_state}` };
          return 'continue';
        });
      }
      const done = await this.ensurePower(current, 'power on', signal);
      this.afterTransition(uuid, state, done);
    });
  }

  async unrescue(uuid: string, options?: CallOptions): Promise<void> {
    const op = 'unrescue';
    const signal = options?.signal;
    const { node, noop, state } = await this.enter(op, 'unrescue', uuid, signal);
    if (noop) return;
    await this.call({ op, target: uuid, currentState: state }, async () => {
      await this.client.states.provision(node.uuid, 'unrescue', {}, signal);
      const active = await this.waitFor(node.uuid, 'unrescue', this.config.actionTimeoutMs, signal, (n) => {
        if (n.provision_state === 'active' && !n.target_provision_state) return 'done';
        if (n.provision_state === 'unrescue failed' || n.provision_state === 'error') return { fail: n.last_error ?? `unrescue ended in ${n.provision_state}` };
        return 'continue';
      });
      const done = await this.ensurePower(active, 'power on', signal);
      this.afterTransition(uuid, state, done);
    });
  }

  // ---- interfaces ---------------------------------------------------------------------

  async attachInterface(uuid: string, vif: Vif, options?: CallOptions): Promise<void> {
    const op = 'attachInterface';
    const signal = options?.signal;
    const { node, state } = await this.enter(op, 'attachInterface', uuid, signal);
    const rec = readOwnerRecord(node)!;
    if (rec.vifs.some((v) => v.id.toLowerCase() === vif.id.toLowerCase())) {
      throw new DriverError('INTERFACE_ALREADY_ATTACHED', { op, target: uuid, detail: vif.id });
    }
    await this.call({ op, target: uuid, currentState: state }, async () => {
      await this.client.vifs.attach(node.uuid, vif.id, signal);
      try {
        await this.client.nodes.patch(node.uuid, vifsPatch(rec, [...rec.vifs, { id: vif.id, address: vif.address.toLowerCase() }]), signal);
      } catch (e) {
        await this.client.vifs.detach(node.uuid, vif.id).catch(() => undefined);
        throw e;
      }
    });
  }

  async detachInterface(uuid: string, vifId: string, options?: CallOptions): Promise<void> {
    const op = 'detachInterface';
    const signal = options?.signal;
    const { node, state } = await this.enter(op, 'detachInterface', uuid, signal);
    const rec = readOwnerRecord(node)!;
    if (!rec.vifs.some((v) => v.id.toLowerCase() === vifId.toLowerCase())) {
      throw new DriverError('INTERFACE_NOT_ATTACHED', { op, target: uuid, detail: vifId });
    }
    await this.call({ op, target: uuid, currentState: state }, async () => {
      await this.detachVifQuietly(node.uuid, vifId, signal);
      await this.client.nodes.patch(node.uuid, vifsPatch(rec, rec.vifs.filter((v) => v.id.toLowerCase() !== vifId.toLowerCase())), signal);
    });
  }

  // ---- console / events ---------------------------------------------------------------

  async getConsoleOutput(uuid: string, options?: CallOptions): Promise<ConsoleOutput> {
    const op = 'getConsoleOutput';
    const { node, state } = await this.enter(op, 'getConsoleOutput', uuid, options?.signal);
    return this.call({ op, target: uuid, currentState: state }, async () => {
      const c = await this.client.states.console(node.uuid, options?.signal);
      const lines = [`Ironic node ${node.uuid} console: ${c.console_enabled ? 'enabled' : 'disabled'}`];
      if (c.console_info?.type) lines.push(`type: ${c.console_info.type}`);
      if (c.console_info?.url) lines.push(`url: ${c.console_info.url}`);
      return { output: `${lines.join('\n')}\n`, truncated: false };
    });
  }

  subscribeEvents(listener: LifecycleListener): Unsubscribe {
    if (!this.config.events) throw errors.unsupported('event.lifecycle', 'subscribeEvents');
    const entry: LifecycleListener = (e) => listener(e);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  // ---- internals ----------------------------------------------------------------------

  /** The list query restricting nodes to those this host manages. */
  private filterQuery(): Query {
    const f = this.config.nodeFilter;
    return { resource_class: f.resourceClass, conductor_group: f.conductorGroup, owner: f.owner };
  }

  private matchesFilter(n: IronicNode): boolean {
    const f = this.config.nodeFilter;
    if (f.resourceClass !== undefined && n.resource_class !== f.resourceClass) return false;
    if (f.conductorGroup !== undefined && (n.conductor_group ?? '') !== f.conductorGroup.toLowerCase()) return false;
    if (f.owner !== undefined && n.owner !== f.owner) return false;
    return true;
  }

  private managedNodes(fields: readonly string[], signal?: AbortSignal, extra: Query = {}): Promise<IronicNode[]> {
    this.requireConnected();
    return this.client.nodes.list({ fields, query: { ...this.filterQuery(), ...extra }, limit: this.config.pageSize, signal });
  }

  /** The node hosting our instance `uuid`, or undefined (absent, or someone else's). One request. */
  private async nodeOfInstance(uuid: string, signal?: AbortSignal): Promise<IronicNode | undefined> {
    this.requireConnected();
    const nodes = await this.client.nodes.list({
      fields: [...INVENTORY_FIELDS, 'conductor_group', 'owner'],
      query: { instance_uuid: uuid },
      limit: 2,
      signal,
    });
    const node = nodes.find((n) => n.instance_uuid?.toLowerCase() === uuid.toLowerCase());
    if (!node || !isOurs(node, this.config.hostId) || !this.matchesFilter(node)) return undefined;
    return node;
  }

  private async requireInstance(uuid: string, op: string, signal?: AbortSignal): Promise<IronicNode> {
    const node = await this.call({ op, target: uuid }, () => this.nodeOfInstance(uuid, signal));
    if (!node) throw errors.notFound(uuid, op);
    return node;
  }

  /**
   * The common start of an instance operation: find the instance (INSTANCE_NOT_FOUND), then
   * apply the semantics table for its current state (INVALID_STATE, or a no-op).
   */
  private async enter(op: string, column: TableOperation, uuid: string, signal?: AbortSignal) {
    checkUuid(uuid, op);
    const node = await this.requireInstance(uuid, op, signal);
    const state = semanticStateOf(node);
    const cell = SEMANTICS[state][column];
    if (cell.kind === 'error') {
      if (cell.error === 'INVALID_STATE') throw errors.invalidState(uuid, state, op);
      throw new DriverError(cell.error, { op, target: uuid });
    }
    return { node, state, noop: cell.noop };
  }

  private infoOf(uuid: string, node: IronicNode): InstanceInfo {
    const rec = readOwnerRecord(node)!;
    const interfaces: AttachedInterface[] = rec.vifs.map((v) => ({ id: v.id, address: v.address })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return {
      uuid,
      name: rec.name,
      powerState: powerStateOfNode(node),
      mode: modeOfNode(node),
      node: node.uuid,
      metadata: { ...rec.metadata },
      volumes: [],
      interfaces,
    };
  }

  /**
   * Reserve a node; when that fails for a node reason, first make sure the uuid is not an
   * existing instance (INSTANCE_EXISTS comes before node errors). The check costs a request on
   * the failure path only: on success Ironic's unique instance_uuid already answered it.
   */
  private async reserve(spec: InstanceSpec, signal?: AbortSignal): Promise<IronicNode> {
    try {
      return await this.reserveNode(spec, signal);
    } catch (e) {
      if (e instanceof DriverError && ['NODE_NOT_FOUND', 'NODE_UNAVAILABLE', 'INSUFFICIENT_RESOURCES'].includes(e.code)) {
        const taken = await this.client.nodes
          .list({ fields: ['uuid', 'instance_uuid'], query: { instance_uuid: spec.uuid }, limit: 2, signal })
          .catch(() => []);
        if (taken.length > 0) throw new DriverError('INSTANCE_EXISTS', { op: 'spawn', target: spec.uuid });
      }
      throw e;
    }
  }

  /** Pick (or take the requested) node and reserve it with one PATCH; a 409 means another host took it. */
  private async reserveNode(spec: InstanceSpec, signal?: AbortSignal): Promise<IronicNode> {
    const op = 'spawn';
    const patch = reservePatch(spec, this.config);
    const candidates = await this.call({ op, target: spec.uuid }, () => this.candidates(spec, signal));
    for (const candidate of candidates) {
      if (this.claiming.has(candidate.uuid)) continue;
      this.claiming.add(candidate.uuid);
      try {
        const node = await this.client.nodes.patch(candidate.uuid, patch, signal);
        if (node.provision_state !== 'available' || node.maintenance || node.target_provision_state) {
          // It changed between the listing and the reservation: give it back.
          await this.client.nodes.patch(node.uuid, releasePatch()).catch(() => undefined);
          if (spec.node !== undefined) throw new DriverError('NODE_UNAVAILABLE', { op, target: spec.node, detail: `node is ${node.provision_state}` });
          continue;
        }
        return node;
      } catch (e) {
        if (e instanceof IronicApiError && e.kind === 'conflict') {
          if (/instance .* is already associated|already associated with a node/i.test(e.detail) && !/node .* is associated/i.test(e.detail)) {
            throw new DriverError('INSTANCE_EXISTS', { op, target: spec.uuid, detail: e.detail, cause: e });
          }
          if (spec.node !== undefined) throw new DriverError('NODE_UNAVAILABLE', { op, target: spec.node, detail: e.detail, cause: e });
          continue; // another host took it: try the next one
        }
        throw toContractError(e, { op, target: spec.uuid, notFound: 'NODE_NOT_FOUND' });
      } finally {
        this.claiming.delete(candidate.uuid);
      }
    }
    if (spec.node !== undefined) throw new DriverError('NODE_UNAVAILABLE', { op, target: spec.node, detail: 'node is being reserved by another spawn' });
    throw new DriverError('INSUFFICIENT_RESOURCES', { op, target: spec.uuid, detail: 'no available node matches the flavor' });
  }

  /** Nodes that could take the instance, the requested one or every match in random order. */
  private async candidates(spec: InstanceSpec, signal?: AbortSignal): Promise<IronicNode[]> {
    // Placement's view, as getInventory reports it: a node offers one unit of its custom class
    // and nothing else, so the flavor's whole usage (expectedUsage: VCPU/MEMORY_MB/DISK_GB unless
    // overridden by `resources:<CLASS>=0`, plus custom classes) must be at most that unit.
    const usage = Object.entries(expectedUsage(spec.flavor));
    const traits = requiredTraits(spec.flavor);
    const fits = (n: IronicNode) =>
      n.resource_class != null &&
      usage.every(([cls, amount]) => cls === customResourceClass(n.resource_class!) && amount <= 1) &&
      traits.every((t) => (n.traits ?? []).includes(t));
    const fields = [...STATE_FIELDS, 'resource_class', 'traits', 'conductor_group', 'owner'];
    if (spec.node !== undefined) {
      let node: IronicNode;
      try {
        node = await this.client.nodes.get(spec.node, fields, signal);
      } catch (e) {
        if (e instanceof IronicApiError && (e.kind === 'not-found' || e.kind === 'bad-request')) {
          throw new DriverError('NODE_NOT_FOUND', { op: 'spawn', target: spec.node, cause: e });
        }
        throw e;
      }
      if (!this.matchesFilter(node)) throw new DriverError('NODE_NOT_FOUND', { op: 'spawn', target: spec.node, detail: 'not managed by this host' });
      const a = nodeAvailability(node, false);
      if (!a.available) throw new DriverError('NODE_UNAVAILABLE', { op: 'spawn', target: spec.node, detail: a.reason });
      if (!fits(node)) {
        throw new DriverError('INSUFFICIENT_RESOURCES', { op: 'spawn', target: spec.node, detail: 'the node\'s resource class or traits do not match the flavor' });
      }
      return [node];
    }
    const nodes = await this.managedNodes(fields, signal, { provision_state: 'available', associated: false, maintenance: false });
    const free = nodes.filter((n) => nodeAvailability(n, false).available && fits(n));
    for (let i = free.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [free[i], free[j]] = [free[j]!, free[i]!];
    }
    return free;
  }

  /** Undo a spawn: tear down or un-reserve the node holding the instance, detach VIFs, as if it never happened. */
  private async release(instanceUuid: string, vifs: readonly { id: string }[]): Promise<void> {
    // Not the caller's signal: a cancelled spawn must still clean up.
    const signal = AbortSignal.timeout(this.config.actionTimeoutMs);
    const node = await this.nodeOfInstance(instanceUuid, signal);
    if (node) await this.teardown(node.uuid, instanceUuid, vifs, signal, node);
  }

  /**
   * Bring a node hosting `instanceUuid` back to the pool: power off (fake hardware's teardown
   * does not), detach VIFs, then `deleted` and wait until Ironic has torn it down and cleared
   * instance_uuid (cleaning continues asynchronously); or just un-reserve a node never deployed.
   */
  private async teardown(nodeUuid: string, instanceUuid: string, vifs: readonly { id: string }[], signal?: AbortSignal, known?: IronicNode): Promise<void> {
    const ours = (n: IronicNode) => n.instance_uuid?.toLowerCase() === instanceUuid.toLowerCase();
    let vifsDetached = false;
    // A few rounds: a request we gave up on (aborted spawn) may still change the node under us,
    // so each round reads the node again and acts on what it sees.
    for (let round = 0; round < 6; round++) {
      // The first round may use the node the caller has just read (destroy: one request fewer).
      let node = round === 0 && known ? known : await this.client.nodes.get(nodeUuid, STATE_FIELDS, signal);
      if (!ours(node)) return;
      if (!settled(node) && node.provision_state !== 'deleting' && !TORN_DOWN.has(node.provision_state ?? '')) {
        node = await this.waitFor(nodeUuid, 'settle', this.config.deployTimeoutMs, signal, (n) =>
          settled(n) || !ours(n) ? 'done' : 'continue',
        );
        if (!ours(node)) return;
      }
      if (node.power_state === 'power on') node = await this.powerAction(nodeUuid, 'power off', 'power off', undefined, signal);
      if (!vifsDetached) {
        for (const vif of vifs) await this.detachVifQuietly(nodeUuid, vif.id, signal);
        vifsDetached = true;
      }
      const ps = node.provision_state ?? '';
      try {
        if (ps === 'available' || ps === 'enroll' || ps === 'manageable') {
          await this.client.nodes.patch(nodeUuid, releasePatch(), signal);
          continue; // verify on the next round
        }
        if (UNDEPLOYABLE.has(ps)) await this.client.states.provision(nodeUuid, 'deleted', {}, signal);
      } catch (e) {
        if (e instanceof IronicApiError && (e.kind === 'bad-request' || e.kind === 'conflict')) continue; // it moved: look again
        throw e;
      }
      await this.waitFor(nodeUuid, 'teardown', this.config.actionTimeoutMs, signal, (n) => {
        if (!ours(n) && (TORN_DOWN.has(n.provision_state ?? '') || !n.target_provision_state)) return 'done';
        if (n.provision_state === 'error' && !n.target_provision_state) return { fail: n.last_error ?? 'teardown ended in error' };
        if (ours(n) && settled(n) && n.provision_state !== 'active') return 'done'; // re-check next round
        return 'continue';
      });
    }
    const last = await this.client.nodes.get(nodeUuid, STATE_FIELDS, signal);
    if (ours(last)) throw new DriverError('INTERNAL', { target: nodeUuid, detail: `node still holds instance ${instanceUuid} in ${last.provision_state}` });
  }

  private async detachVifQuietly(nodeUuid: string, vifId: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.client.vifs.detach(nodeUuid, vifId, signal);
    } catch (e) {
      // Not attached (any more) is what we want.
      if (e instanceof IronicApiError && (e.kind === 'not-found' || e.kind === 'bad-request')) return;
      throw e;
    }
  }

  /** Ask for a power target and wait until Ironic reports `expect` with no action pending. */
  private async powerAction(nodeUuid: string, target: PowerTarget, expect: 'power on' | 'power off', timeoutS: number | undefined, signal?: AbortSignal): Promise<IronicNode> {
    await this.client.states.power(nodeUuid, target, timeoutS, signal);
    return this.waitFor(nodeUuid, `power:${target}`, this.config.actionTimeoutMs, signal, (n) => {
      if (n.target_power_state) return 'continue';
      if (n.power_state === expect) return 'done';
      return { fail: n.last_error ?? `power state is ${n.power_state} after ${target}` };
    });
  }

  private async ensurePower(node: IronicNode, want: 'power on' | 'power off', signal?: AbortSignal): Promise<IronicNode> {
    if (node.power_state === want && !node.target_power_state) return node;
    return this.powerAction(node.uuid, want, want, undefined, signal);
  }

  private waitFor(nodeUuid: string, kind: string, timeoutMs: number, signal: AbortSignal | undefined, check: (n: IronicNode) => Verdict): Promise<IronicNode> {
    return this.watcher.wait(nodeUuid, check, { kind, timeoutMs, signal });
  }

  /** Emit the event of a power transition, when the power state changed. */
  private afterTransition(uuid: string, before: SemanticState, after: IronicNode): void {
    const now = semanticStateOf(after);
    if (isUp(before) && !isUp(now)) this.emit(uuid, 'STOPPED', after);
    else if (!isUp(before) && isUp(now)) this.emit(uuid, 'STARTED', after);
  }

  private emit(uuid: string, kind: LifecycleEventKind, node: IronicNode): void {
    if (!this.config.events || this.listeners.size === 0) return;
    const event = { uuid, kind, powerState: powerStateOfNode(node), node: node.uuid, timestamp: new Date().toISOString() };
    for (const l of [...this.listeners]) {
      try {
        l({ ...event });
      } catch {
        // a listener's failure is its own
      }
    }
  }

  private spawnError(cause: unknown, stage: string, nodeUuid: string, uuid: string, releaseError: unknown): DriverError {
    const op = 'spawn';
    const releaseNote = releaseError === undefined ? 'node released' : `releasing the node failed too: ${String((releaseError as Error)?.message ?? releaseError)}`;
    if (cause instanceof WaitFailedError) {
      return new DriverError('NODE_UNAVAILABLE', { op, target: nodeUuid, detail: `${stage} failed on node ${nodeUuid}: ${cause.message}; ${releaseNote}`, cause });
    }
    if (cause instanceof WaitTimeoutError) {
      return new DriverError('TIMEOUT', { op, target: uuid, detail: `${cause.message}; ${releaseNote}`, cause });
    }
    if (cause instanceof DriverError) return cause;
    const mapped = toContractError(cause, { op, target: uuid });
    if (mapped.code === 'INTERNAL' || mapped.code === 'INVALID_STATE') {
      // INVALID_STATE is not a spawn error: the node moved under us (it is not available).
      return new DriverError(mapped.code === 'INVALID_STATE' ? 'NODE_UNAVAILABLE' : 'INTERNAL', {
        op,
        target: nodeUuid,
        detail: `${stage} on node ${nodeUuid}: ${(cause as Error)?.message ?? String(cause)}; ${releaseNote}`,
        cause,
      });
    }
    return mapped;
  }

  private async call<T>(ctx: ErrorContext, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof WaitFailedError) throw new DriverError('INTERNAL', { op: ctx.op, target: ctx.target, detail: e.message, cause: e });
      if (e instanceof WaitTimeoutError) throw new DriverError('TIMEOUT', { op: ctx.op, target: ctx.target, detail: e.message, cause: e });
      throw toContractError(e, ctx);
    }
  }

  private requireConnected(): void {
    if (!this.connected) throw new DriverError('BACKEND_UNAVAILABLE', { detail: 'initHost has not been called (or cleanupHost was)' });
  }
}

function checkUuid(uuid: string, op: string): void {
  if (typeof uuid !== 'string' || !UUID.test(uuid)) throw errors.invalidInput([{ path: ['uuid'], message: 'must be a UUID' }], op);
}

/** network_data for a rebuild: links for the interfaces the instance has now (addresses only). */
function networkDataFromRecord(rec: OwnerRecord) {
  return {
    links: rec.vifs.map((v) => ({ id: `tap${v.id.slice(0, 11)}`, type: 'phy' as const, ethernet_mac_address: v.address, mtu: null, vif_id: v.id })),
    networks: rec.vifs.map((v, i) => ({ id: `network${i}`, type: 'ipv4_dhcp', link: `tap${v.id.slice(0, 11)}` })),
    services: [],
  };
}
