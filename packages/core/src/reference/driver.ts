import { CAPABILITY_IDS, type CapabilityId } from '../capabilities/catalog.js';
import { declareCapabilities, type DriverCapabilities } from '../capabilities/driver-capabilities.js';
import type { CallOptions, ComputeDriver, LifecycleListener, PowerOffOptions, Unsubscribe } from '../driver/compute-driver.js';
import { DriverError, errors } from '../errors/driver-error.js';
import { OPERATIONS, capabilitiesOfCall, columnOfCall, type OperationName } from '../operations/registry.js';
import type { RestorableState } from '../schemas/power-state.js';
import type { VolumeAttachment } from '../schemas/block-device-info.js';
import type { InstanceInfo, InstanceSummary } from '../schemas/instance-info.js';
import type { InstanceSpec, RebootType, RebuildSpec, RescueSpec, SnapshotSpec } from '../schemas/instance-spec.js';
import type { HostInventory, NodeInfo } from '../schemas/inventory.js';
import { VifTypeSchema, type Vif } from '../schemas/network-info.js';
import type { ConsoleOutput, EventCause, SnapshotResult } from '../schemas/outputs.js';
import { expectedUsage, type OutcomeContext } from '../semantics/oracle.js';
import { powerStateOf, type TableOperation } from '../semantics/states.js';
import { ReferenceDriverConfigSchema, type ReferenceDriverConfig, type ResolvedReferenceDriverConfig } from './config.js';
import { ACTION_WORDS, EventHub, eventKind } from './events.js';
import { appendConsole, toInfo, toSummary, type ExistingState, type InstanceRecord } from './instance.js';
import { NodePool } from './nodes.js';
import { enforceCell } from '../toolkit/enforce-cell.js';
import { copyMetadata, invalidField } from './validate.js';
import { MigrationDesk } from './migration.js';
import { SnapshotStore } from './snapshots.js';
import type { MigrationProgress, MigrationRequest, MigrationTarget } from '../schemas/migration.js';

/**
 * The reference driver: every ComputeDriver operation, present and required, plus hooks
 * for tests that make the "instance" do what only a guest or a backend could.
 */
export interface ReferenceDriver extends Required<ComputeDriver> {
  /** The guest crashed: the instance goes to CRASHED (leaving rescue) and a CRASHED event is emitted. */
  simulateCrash(uuid: string): void;
  /** The guest shut itself down (out of band): a RUNNING or PAUSED instance goes to SHUTDOWN and a STOPPED event is emitted. */
  simulateGuestShutdown(uuid: string): void;
  /** The backend lost track of the power state (Ironic's "None"): the instance goes to NOSTATE, no event. */
  simulateNoState(uuid: string): void;
}

const ALL_VOLUME_TRANSPORTS = ['file', 'block', 'iscsi', 'rbd'] as const;

/** Identity of uuids and device ids is case-insensitive, as a UUID's value is; ids are reported as given. */
function key(id: string): string {
  return id.toLowerCase();
}

/**
 * In-memory ComputeDriver that follows the semantics table exactly: every decision comes
 * from expectedOutcome(), and the in-memory state is the truth that getInfo reports.
 * All work of one call happens synchronously inside it, so calls are atomic and never
 * interleave. Instances are kept in a Map and usage counters per node are updated on each
 * change, so no call scans all instances except listInstances.
 */
export class ReferenceComputeDriver implements ReferenceDriver {
  readonly config: ResolvedReferenceDriverConfig;
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly snapshots = new SnapshotStore();
  private readonly disabled: ReadonlySet<CapabilityId>;
  private readonly nodes: NodePool;
  private readonly events: EventHub;
  private readonly desk: MigrationDesk;

  constructor(config: ReferenceDriverConfig = {}) {
    const parsed = ReferenceDriverConfigSchema.safeParse(config);
    if (!parsed.success) {
      throw errors.invalidInput(
        parsed.error.issues.map((i) => ({ path: ['config', ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: i.message })),
        'createReferenceDriver',
      );
    }
    this.config = parsed.data;
    this.disabled = new Set(this.config.disabledCapabilities);
    this.nodes = new NodePool(this.config);
    this.events = new EventHub(this.config.eventDelayMs);
    this.desk = new MigrationDesk({ instances: this.instances, nodes: this.nodes, consoleLogLimit: this.config.consoleLogLimit });
  }

  // ---- host -------------------------------------------------------------------------

  async initHost(_options?: CallOptions): Promise<void> {}

  async cleanupHost(_options?: CallOptions): Promise<void> {
    this.events.flush();
    this.nodes.flush();
  }

  async getCapabilities(_options?: CallOptions): Promise<DriverCapabilities> {
    const { releaseDelayMs, eventDelayMs } = this.config;
    return declareCapabilities({
      supported: CAPABILITY_IDS.filter((id) => !this.disabled.has(id)),
      multiNode: this.nodes.multiNode,
      volumeTransports: [...ALL_VOLUME_TRANSPORTS],
      vifTypes: [...VifTypeSchema.options],
      eventualConsistency: {
        resourceReleaseMs: releaseDelayMs,
        eventDeliveryMs: eventDelayMs,
        nodeAvailableMs: this.nodes.multiNode ? releaseDelayMs : 0,
      },
    });
  }

  async listNodes(_options?: CallOptions): Promise<NodeInfo[]> {
    return this.nodes.nodeInfos();
  }

  async getInventory(_options?: CallOptions): Promise<HostInventory> {
    return this.nodes.inventory();
  }

  // ---- instances --------------------------------------------------------------------

  async listInstances(_options?: CallOptions): Promise<InstanceSummary[]> {
    this.gate('listInstances');
    const out: InstanceSummary[] = new Array(this.instances.size);
    let i = 0;
    for (const record of this.instances.values()) out[i++] = toSummary(record);
    return out;
  }

  async getInfo(uuid: string, _options?: CallOptions): Promise<InstanceInfo> {
    this.gate('getInfo');
    return toInfo(this.decide('getInfo', 'getInfo', uuid).record!);
  }

  async spawn(s: InstanceSpec, _options?: CallOptions): Promise<void> {
    this.gate('spawn');
    const existing = this.instances.get(key(s.uuid));
    const outcome = enforceCell(existing ? existing.state : 'ABSENT', 'spawn', { op: 'spawn', uuid: s.uuid, ctx: { powerOn: s.powerOn } });
    const usage = Object.entries(expectedUsage(s.flavor));
    const node = this.nodes.place(usage, s.node);
    // Every check passed: from here on nothing throws, so a failed spawn leaves nothing behind.
    const to = outcome.to as ExistingState;
    const record: InstanceRecord = {
      uuid: s.uuid,
      name: s.name,
      node,
      flavor: s.flavor,
      usage,
      state: to,
      image: s.image,
      metadata: copyMetadata(s.metadata),
      rescueImage: undefined,
      volumes: new Map(s.blockDeviceInfo.volumes.map((v) => [key(v.volumeId), v])),
      interfaces: new Map(s.networkInfo.map((v) => [key(v.id), v])),
      console: [],
      consoleTruncated: false,
    };
    this.instances.set(key(s.uuid), record);
    this.nodes.allocate(node, key(s.uuid), usage);
    const kind = to === 'RUNNING' ? 'STARTED' : 'CREATED';
    appendConsole(record, `[${record.uuid}] ${kind} spawn: ABSENT -> ${to}`, this.config.consoleLogLimit);
    if (to === 'RUNNING') this.events.emit(record.uuid, 'STARTED', 'RUNNING', node.id);
  }

  async destroy(uuid: string, _options?: CallOptions): Promise<void> {
    this.gate('destroy');
    const { record } = this.decide('destroy', 'destroy', uuid);
    if (record === undefined) return;
    this.instances.delete(key(uuid));
    this.nodes.release(record.node, record.usage);
    const power = powerStateOf(record.state);
    // As Nova's drivers do: tearing down a live guest reports it stopped.
    if (power === 'RUNNING' || power === 'PAUSED') this.events.emit(record.uuid, 'STOPPED', 'SHUTDOWN', record.node.id);
  }

  // ---- power ------------------------------------------------------------------------

  async powerOff(uuid: string, options?: PowerOffOptions): Promise<void> {
    this.simple('powerOff', 'powerOff', uuid, options);
  }

  async powerOn(uuid: string, options?: CallOptions): Promise<void> {
    this.simple('powerOn', 'powerOn', uuid, options);
  }

  async reboot(uuid: string, type: RebootType, options?: CallOptions): Promise<void> {
    this.simple('reboot', type === 'SOFT' ? 'rebootSoft' : 'rebootHard', uuid, options);
  }

  async pause(uuid: string, options?: CallOptions): Promise<void> {
    this.simple('pause', 'pause', uuid, options);
  }

  async unpause(uuid: string, options?: CallOptions): Promise<void> {
    this.simple('unpause', 'unpause', uuid, options);
  }

  async suspend(uuid: string, options?: CallOptions): Promise<void> {
    this.simple('suspend', 'suspend', uuid, options);
  }

  async resume(uuid: string, options?: CallOptions): Promise<void> {
    this.simple('resume', 'resume', uuid, options);
  }

  async rescue(uuid: string, s: RescueSpec, _options?: CallOptions): Promise<void> {
    this.gate('rescue');
    const { record, outcome } = this.decide('rescue', 'rescue', uuid);
    if (outcome.noop) return;
    record!.rescueImage = s.image ?? record!.image;
    this.moveTo(record!, outcome.to as ExistingState, 'rescue');
  }

  async unrescue(uuid: string, options?: CallOptions): Promise<void> {
    this.simple('unrescue', 'unrescue', uuid, options);
  }

  async rebuild(uuid: string, s: RebuildSpec, _options?: CallOptions): Promise<void> {
    this.gate('rebuild');
    const { record, outcome } = this.decide('rebuild', 'rebuild', uuid);
    const r = record!;
    r.image = s.image;
    if (s.metadata !== undefined) r.metadata = copyMetadata(s.metadata);
    this.moveTo(r, outcome.to as ExistingState, 'rebuild');
  }

  // ---- images -----------------------------------------------------------------------

  async snapshot(uuid: string, s: SnapshotSpec, _options?: CallOptions): Promise<SnapshotResult> {
    this.gate('snapshot');
    return this.snapshots.take(this.decide('snapshot', 'snapshot', uuid).record!, s.name);
  }

  async deleteSnapshot(imageId: string, _options?: CallOptions): Promise<void> {
    this.gate('deleteSnapshot');
    this.snapshots.delete(imageId);
  }

  async listSnapshots(_options?: CallOptions): Promise<SnapshotResult[]> {
    this.gate('listSnapshots');
    return this.snapshots.list();
  }

  // ---- host restart -----------------------------------------------------------------

  async restoreState(uuid: string, desired: RestorableState, options?: CallOptions): Promise<void> {
    // Restoring PAUSED needs pause, SUSPENDED needs suspend: UNSUPPORTED when declared missing.
    this.gateCall('restoreState', [uuid, desired]);
    this.simple('restoreState', columnOfCall('restoreState', [uuid, desired])!, uuid, options);
  }

  // ---- devices ----------------------------------------------------------------------

  async attachVolume(uuid: string, a: VolumeAttachment, _options?: CallOptions): Promise<void> {
    this.gate('attachVolume');
    const r = this.decide('attachVolume', 'attachVolume', uuid, (rec) => ({ volumeAttached: rec.volumes.has(key(a.volumeId)) })).record!;
    r.volumes.set(key(a.volumeId), a);
  }

  async detachVolume(uuid: string, v: string, _options?: CallOptions): Promise<void> {
    this.gate('detachVolume');
    const r = this.decide('detachVolume', 'detachVolume', uuid, (rec) => ({ volumeAttached: rec.volumes.has(key(v)) })).record!;
    r.volumes.delete(key(v));
  }

  async extendVolume(uuid: string, v: string, size: number, _options?: CallOptions): Promise<void> {
    this.gate('extendVolume');
    const r = this.decide('extendVolume', 'extendVolume', uuid, (rec) => ({ volumeAttached: rec.volumes.has(key(v)) })).record!;
    const current = r.volumes.get(key(v))!;
    // Volumes only grow. This INVALID_INPUT depends on the attached volume, so it comes
    // after the state and device checks (a schema-level INVALID_INPUT comes before them).
    if (current.sizeGb !== undefined && size < current.sizeGb) {
      throw invalidField('extendVolume', ['newSizeGb'], `must not be smaller than the current size (${current.sizeGb} GiB): volumes only grow`);
    }
    r.volumes.set(key(v), { ...current, sizeGb: size });
  }

  async attachInterface(uuid: string, parsed: Vif, _options?: CallOptions): Promise<void> {
    this.gate('attachInterface');
    const r = this.decide('attachInterface', 'attachInterface', uuid, (rec) => ({ interfaceAttached: rec.interfaces.has(key(parsed.id)) })).record!;
    r.interfaces.set(key(parsed.id), parsed);
  }

  async detachInterface(uuid: string, v: string, _options?: CallOptions): Promise<void> {
    this.gate('detachInterface');
    const r = this.decide('detachInterface', 'detachInterface', uuid, (rec) => ({ interfaceAttached: rec.interfaces.has(key(v)) })).record!;
    r.interfaces.delete(key(v));
  }

  // ---- migration (the desk in migration.ts holds the protocol) ---------------------------

  async prepareMigration(request: MigrationRequest, _options?: CallOptions): Promise<MigrationTarget> {
    this.gateCall('prepareMigration', [request]);
    return this.desk.prepare(request);
  }

  async migrate(uuid: string, target: MigrationTarget, options?: CallOptions): Promise<void> {
    this.gateCall('migrate', [uuid, target]);
    await this.desk.migrate(uuid, () => this.instances.get(key(uuid)), target, options?.signal);
  }

  async finishMigration(migrationId: string, _options?: CallOptions): Promise<void> {
    this.gate('finishMigration');
    this.desk.finish(migrationId);
  }

  async abortMigration(migrationId: string, _options?: CallOptions): Promise<void> {
    this.gate('abortMigration');
    this.desk.abort(migrationId);
  }

  async getMigrationProgress(uuid: string, _options?: CallOptions): Promise<MigrationProgress> {
    this.gate('getMigrationProgress');
    return this.desk.progress(uuid, this.instances.has(key(uuid)));
  }

  // ---- console and events -----------------------------------------------------------

  async getConsoleOutput(uuid: string, _options?: CallOptions): Promise<ConsoleOutput> {
    this.gate('getConsoleOutput');
    const r = this.decide('getConsoleOutput', 'getConsoleOutput', uuid).record!;
    const output = r.console.length === 0 ? '' : r.console.join('\n') + '\n';
    return { output, truncated: r.consoleTruncated };
  }

  subscribeEvents(listener: LifecycleListener): Unsubscribe {
    if (this.disabled.has('event.lifecycle')) throw errors.unsupported('event.lifecycle', 'subscribeEvents');
    return this.events.subscribe(listener);
  }

  // ---- testing hooks ----------------------------------------------------------------

  simulateCrash(uuid: string): void {
    this.moveTo(this.existing('simulateCrash', uuid), 'CRASHED', 'simulateCrash', 'out-of-band');
  }

  simulateGuestShutdown(uuid: string): void {
    const record = this.existing('simulateGuestShutdown', uuid);
    if (record.state === 'RUNNING' || record.state === 'RESCUE') this.moveTo(record, 'SHUTDOWN', 'simulateGuestShutdown', 'out-of-band');
  }

  simulateNoState(uuid: string): void {
    this.moveTo(this.existing('simulateNoState', uuid), 'NOSTATE', 'simulateNoState');
  }

  // ---- internals --------------------------------------------------------------------

  /** UNSUPPORTED when the operation's capability is declared missing: checked before anything else. */
  private gate(op: OperationName): void {
    const capability = OPERATIONS[op].capability;
    if (capability !== null && this.disabled.has(capability)) throw errors.unsupported(capability, op);
  }

  /** UNSUPPORTED when a capability the call needs (its operation's, or its arguments': a LIVE migration) is declared missing. */
  private gateCall(op: OperationName, args: readonly unknown[]): void {
    for (const capability of capabilitiesOfCall(op, args)) if (this.disabled.has(capability)) throw errors.unsupported(capability, op);
  }

  /** The instance a test hook acts on (hooks take a uuid in any case, as a test wrote it). */
  private existing(op: string, uuid: string): InstanceRecord {
    const record = this.instances.get(key(uuid));
    if (record === undefined) throw errors.notFound(uuid, op);
    return record;
  }

  /**
   * Apply the semantics table to the instance as it is now (enforceCell throws the table's
   * exact error). The device context (is the volume / interface attached?) is read from the record.
   */
  private decide(
    op: OperationName,
    tableOp: TableOperation,
    uuid: string,
    context?: (record: InstanceRecord) => OutcomeContext,
  ): { record: InstanceRecord | undefined; outcome: { to: ExistingState | 'ABSENT'; noop: boolean } } {
    const record = this.instances.get(key(uuid));
    const ctx = record && context ? context(record) : undefined;
    const outcome = enforceCell(record ? record.state : 'ABSENT', tableOp, { op, uuid, ...(ctx ? { ctx } : {}) });
    return { record, outcome: { to: outcome.to as ExistingState | 'ABSENT', noop: outcome.noop } };
  }

  /** A power-state operation without arguments beyond the uuid (and a fixed table column). */
  private simple(op: OperationName, tableOp: TableOperation, uuid: string, _options: CallOptions | undefined): void {
    this.gate(op);
    const { record, outcome } = this.decide(op, tableOp, uuid);
    if (outcome.noop) return;
    this.moveTo(record!, outcome.to as ExistingState, op);
  }

  /** Apply a transition: state, console line, and an event when the power state changes. */
  private moveTo(record: InstanceRecord, to: ExistingState, op: string, cause: EventCause = 'requested'): void {
    const from = record.state;
    record.state = to;
    if (to !== 'RESCUE') record.rescueImage = undefined;
    const powerChanged = powerStateOf(from) !== powerStateOf(to);
    const kind = powerChanged ? eventKind(from, to) : undefined;
    const word = kind ?? ACTION_WORDS[op] ?? op.toUpperCase();
    appendConsole(record, `[${record.uuid}] ${word} ${op}: ${from} -> ${to}`, this.config.consoleLogLimit);
    if (kind !== undefined) this.events.emit(record.uuid, kind, powerStateOf(to), record.node.id, cause);
  }
}

/** Create a reference driver. Throws INVALID_INPUT (paths under `config`) for a bad configuration. */
export function createReferenceDriver(config: ReferenceDriverConfig = {}): ReferenceDriver {
  return new ReferenceComputeDriver(config);
}
