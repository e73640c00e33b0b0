/**
 * What every operation of the driver shares: the configuration, the Ironic client, the node
 * watcher, the event stream, and the look-ups an operation starts with. Everything is read from
 * Ironic on each call (no node cache): a host's whole view is a few paginated list calls.
 */
import { currentHolder, DriverError, enforceCell, errors, type OutcomeContext, type SemanticState, type TableOperation } from '@nova-common/core';
import { IronicClient } from '../client/client.js';
import type { Query } from '../client/http.js';
import { INVENTORY_FIELDS, type IronicNode } from '../client/types.js';
import type { IronicDriverConfig } from '../config.js';
import type { ConfigDriveOptions } from '../mapping/configdrive.js';
import { toContractError, type ErrorContext } from '../mapping/errors.js';
import { cachedSha256, type FileDigest } from '../mapping/image-source.js';
import { isOurs } from '../mapping/instance-info.js';
import { semanticStateOf } from '../mapping/state.js';
import { NodeWatcher, WaitFailedError, WaitTimeoutError, type Verdict } from '../wait/node-watcher.js';
import { IronicEvents } from './events.js';
import { NodeRecoveryState } from './node-recovery.js';
import { OutOfBandPoller } from './out-of-band.js';

/** An instance found, in a state whose table cell allows the operation. */
export interface Entered {
  node: IronicNode;
  state: Exclude<SemanticState, 'ABSENT'>;
  /** The cell says the operation changes nothing in this state. */
  noop: boolean;
}

export class IronicContext {
  readonly client: IronicClient;
  readonly watcher: NodeWatcher;
  readonly events: IronicEvents;
  readonly outOfBand: OutOfBandPoller;
  /** Nodes a spawn of this process is reserving right now, so concurrent spawns pick different ones. */
  readonly claiming = new Set<string>();
  /** This process, written into each reservation (see currentHolder). */
  readonly holder = currentHolder();
  /** Free nodes this process brings back from failure states (node-recovery.ts). */
  readonly nodeRecovery = new NodeRecoveryState();
  /**
   * Instances whose spawn failed while Ironic could not be reached to undo it, with their VIFs:
   * a retried spawn of the same uuid releases the node first, so it converges instead of finding
   * its own half-made instance (INSTANCE_EXISTS).
   */
  readonly unreleased = new Map<string, readonly { id: string }[]>();
  /** Teardowns whose node gets the operator's instance_info back once Ironic has cleaned it (teardown.ts), by node uuid. */
  readonly restoring = new Map<string, Promise<void>>();
  /** SHA-256 of file:// images, cached by path, size and modification time. */
  readonly digest: FileDigest = cachedSha256();
  connected = false;

  constructor(readonly config: IronicDriverConfig) {
    this.client = new IronicClient({
      endpoint: config.endpoint,
      connections: config.connections,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      retry: config.retry,
    });
    // The watcher's list call covers only nodes with an instance: every node a wait is about has
    // one (a deploy, a power action, a teardown until it completes), and it is far cheaper than
    // listing the whole pool (1,000 nodes cost ~300 ms of Ironic's time, 200 deploying ones ~60).
    this.watcher = new NodeWatcher(this.client, config.poll, { ...this.filterQuery(), associated: true }, config.pageSize, config.outageBudgetMs);
    this.events = new IronicEvents(config.events);
    this.outOfBand = new OutOfBandPoller(this, config.events ? config.eventPollMs : 0);
    this.events.onListeners = (count) => this.outOfBand.setWanted(count > 0);
  }

  /** What the config drive's meta_data takes from the configuration. */
  configDriveOptions(): ConfigDriveOptions {
    const c = this.config.configDrive;
    return { availabilityZone: c.availabilityZone, projectId: c.projectId ?? this.config.hostId, dhcpDomain: c.dhcpDomain };
  }

  requireConnected(): void {
    if (!this.connected) throw new DriverError('BACKEND_UNAVAILABLE', { detail: 'initHost has not been called (or cleanupHost was)' });
  }

  /** The list query restricting nodes to those this host manages. */
  filterQuery(): Query {
    const f = this.config.nodeFilter;
    return { resource_class: f.resourceClass, conductor_group: f.conductorGroup, owner: f.owner };
  }

  /** Whether a node read on its own (not through filterQuery) is one this host manages. */
  matchesFilter(n: IronicNode): boolean {
    const f = this.config.nodeFilter;
    if (f.resourceClass !== undefined && n.resource_class !== f.resourceClass) return false;
    // Ironic stores conductor groups in lower case.
    if (f.conductorGroup !== undefined && (n.conductor_group ?? '') !== f.conductorGroup.toLowerCase()) return false;
    if (f.owner !== undefined && n.owner !== f.owner) return false;
    return true;
  }

  managedNodes(fields: readonly string[], signal?: AbortSignal, extra: Query = {}): Promise<IronicNode[]> {
    this.requireConnected();
    return this.client.nodes.list({ fields, query: { ...this.filterQuery(), ...extra }, limit: this.config.pageSize, signal });
  }

  /** The node hosting our instance `uuid`, or undefined (absent, or someone else's). One request. */
  async nodeOfInstance(uuid: string, signal?: AbortSignal): Promise<IronicNode | undefined> {
    this.requireConnected();
    const nodes = await this.client.nodes.list({
      fields: [...INVENTORY_FIELDS, 'conductor_group', 'owner', 'maintenance_reason'],
      query: { instance_uuid: uuid },
      limit: 2,
      signal,
    });
    const node = nodes.find((n) => n.instance_uuid === uuid);
    if (!node || !isOurs(node, this.config.hostId) || !this.matchesFilter(node)) return undefined;
    return node;
  }

  /**
   * The common start of an instance operation: find the instance, then apply the semantics
   * table (core's enforceCell) to its state: INSTANCE_NOT_FOUND, INVALID_STATE, a device
   * precondition from `device` (the node's view of it), a no-op, or go ahead. The node as found
   * is also a look for out-of-band changes (events.observe).
   */
  async enter(op: string, column: TableOperation, uuid: string, signal?: AbortSignal, device?: (node: IronicNode) => OutcomeContext): Promise<Entered> {
    const node = await withContractErrors({ op, target: uuid }, () => this.nodeOfInstance(uuid, signal));
    if (!node) {
      enforceCell('ABSENT', column, { op, uuid });
      throw errors.notFound(uuid, op); // no instance operation that calls enter goes ahead on ABSENT
    }
    this.events.observe(uuid, node);
    const state = semanticStateOf(node);
    const { noop } = enforceCell(state, column, { op, uuid, ctx: device?.(node) });
    return { node, state, noop };
  }

  waitFor(nodeUuid: string, kind: string, timeoutMs: number, signal: AbortSignal | undefined, check: (n: IronicNode) => Verdict): Promise<IronicNode> {
    return this.watcher.wait(nodeUuid, check, { kind, timeoutMs, signal });
  }
}

/** Run `fn` and turn whatever it throws into the contract's error for `ctx`. */
export async function withContractErrors<T>(ctx: ErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof WaitFailedError) throw new DriverError('INTERNAL', { op: ctx.op, target: ctx.target, detail: e.message, cause: e });
    if (e instanceof WaitTimeoutError) throw new DriverError('TIMEOUT', { op: ctx.op, target: ctx.target, detail: e.message, cause: e });
    throw toContractError(e, ctx);
  }
}
