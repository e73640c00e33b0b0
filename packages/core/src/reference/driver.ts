import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CAPABILITY_IDS, type CapabilityId } from '../capabilities/catalog.js';
import { declareCapabilities, type DriverCapabilities } from '../capabilities/driver-capabilities.js';
import type { CallOptions, ComputeDriver, LifecycleListener, PowerOffOptions, Unsubscribe } from '../driver/compute-driver.js';
import { DriverError, errors } from '../errors/driver-error.js';
import { OPERATIONS, type OperationName } from '../operations/registry.js';
import { VolumeAttachmentSchema, type VolumeAttachment } from '../schemas/block-device-info.js';
import { IdentifierSchema, PositiveIntSchema, UuidSchema } from '../schemas/common.js';
import type { InstanceInfo, InstanceSummary } from '../schemas/instance-info.js';
import {
  InstanceSpecSchema,
  RebootTypeSchema,
  RebuildSpecSchema,
  RescueSpecSchema,
  SnapshotSpecSchema,
  type InstanceSpec,
  type RebootType,
  type RebuildSpec,
  type RescueSpec,
  type SnapshotSpec,
} from '../schemas/instance-spec.js';
import type { HostInventory, NodeInfo } from '../schemas/inventory.js';
import { VifSchema, type Vif } from '../schemas/network-info.js';
import type { ConsoleOutput, LifecycleEventKind, SnapshotResult } from '../schemas/outputs.js';
import { expectedOutcome, expectedUsage, type OutcomeContext } from '../semantics/oracle.js';
import { powerStateOf, type TableOperation } from '../semantics/states.js';
import { ReferenceDriverConfigSchema, type ReferenceDriverConfig, type ResolvedReferenceDriverConfig } from './config.js';
import { EventHub } from './events.js';
import { appendConsole, toInfo, toSummary, type ExistingState, type InstanceRecord } from './instance.js';
import { NodePool } from './nodes.js';
import { checkAborted, copyMetadata, invalidField, parseArg } from './validate.js';

/**
 * The reference driver: every ComputeDriver operation, present and required, plus hooks
 * for tests that make the "instance" do what only a guest or a backend could.
 */
export interface ReferenceDriver extends Required<ComputeDriver> {
  /** The guest crashed: the instance goes to CRASHED (leaving rescue) and a CRASHED event is emitted. */
  simulateCrash(uuid: string): void;
  /** The backend lost track of the power state (Ironic's "None"): the instance goes to NOSTATE, no event. */
  simulateNoState(uuid: string): void;
  /** Images produced by snapshot and not deleted, oldest first. */
  listSnapshots(): SnapshotResult[];
}

const NewSizeSchema = PositiveIntSchema.max(1024 * 1024);
const GracefulTimeoutSchema = z.number().int().min(0).max(3_600_000).optional();
const ListenerSchema = z.custom<LifecycleListener>((v) => typeof v === 'function', { message: 'must be a function' });

const ALL_VOLUME_TRANSPORTS = ['file', 'block', 'iscsi', 'rbd'] as const;

/** Words of console lines for actions that do not change the power state. */
const ACTION_WORDS: Partial<Record<string, string>> = {
  reboot: 'REBOOTED',
  rebuild: 'REBUILT',
  rescue: 'RESCUED',
  unrescue: 'UNRESCUED',
  simulateCrash: 'CRASHED',
  simulateNoState: 'NOSTATE',
};

interface StoredSnapshot {
  readonly result: SnapshotResult;
  readonly sourceUuid: string;
}

/** The lifecycle event kind for a power transition (a kind eventKindsFor(to) lists). */
function eventKind(from: ExistingState | 'ABSENT', to: ExistingState): LifecycleEventKind | undefined {
  switch (powerStateOf(to)) {
    case 'RUNNING':
      return from === 'PAUSED' || from === 'SUSPENDED' ? 'RESUMED' : 'STARTED';
    case 'SHUTDOWN':
      return 'STOPPED';
    case 'PAUSED':
      return 'PAUSED';
    case 'SUSPENDED':
      return 'SUSPENDED';
    case 'CRASHED':
      return 'CRASHED';
    default:
      return undefined;
  }
}

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
  private readonly snapshots = new Map<string, StoredSnapshot>();
  private readonly disabled: ReadonlySet<CapabilityId>;
  private readonly nodes: NodePool;
  private readonly events: EventHub;

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
  }

  // ---- host -------------------------------------------------------------------------

  async initHost(options?: CallOptions): Promise<void> {
    checkAborted(options?.signal, 'initHost');
  }

  async cleanupHost(options?: CallOptions): Promise<void> {
    checkAborted(options?.signal, 'cleanupHost');
    this.events.flush();
    this.nodes.flush();
  }

  async getCapabilities(options?: CallOptions): Promise<DriverCapabilities> {
    checkAborted(options?.signal, 'getCapabilities');
    const { releaseDelayMs, eventDelayMs } = this.config;
    return declareCapabilities({
      supported: CAPABILITY_IDS.filter((id) => !this.disabled.has(id)),
      multiNode: this.nodes.multiNode,
      volumeTransports: [...ALL_VOLUME_TRANSPORTS],
      eventualConsistency: {
        resourceReleaseMs: releaseDelayMs,
        eventDeliveryMs: eventDelayMs,
        nodeAvailableMs: this.nodes.multiNode ? releaseDelayMs : 0,
      },
    });
  }

  async listNodes(options?: CallOptions): Promise<NodeInfo[]> {
    checkAborted(options?.signal, 'listNodes');
    return this.nodes.nodeInfos();
  }

  async getInventory(options?: CallOptions): Promise<HostInventory> {
    checkAborted(options?.signal, 'getInventory');
    return this.nodes.inventory();
  }

  // ---- instances --------------------------------------------------------------------

  async listInstances(options?: CallOptions): Promise<InstanceSummary[]> {
    this.gate('listInstances');
    checkAborted(options?.signal, 'listInstances');
    const out: InstanceSummary[] = new Array(this.instances.size);
    let i = 0;
    for (const record of this.instances.values()) out[i++] = toSummary(record);
    return out;
  }

  async getInfo(uuid: string, options?: CallOptions): Promise<InstanceInfo> {
    this.gate('getInfo');
    const id = parseArg(UuidSchema, uuid, 'getInfo', ['uuid']);
    checkAborted(options?.signal, 'getInfo');
    return toInfo(this.decide('getInfo', 'getInfo', id).record!);
  }

  async spawn(spec: InstanceSpec, options?: CallOptions): Promise<void> {
    this.gate('spawn');
    const s = parseArg(InstanceSpecSchema, spec, 'spawn', ['spec']);
    checkAborted(options?.signal, 'spawn');
    const existing = this.instances.get(key(s.uuid));
    const outcome = expectedOutcome(existing ? existing.state : 'ABSENT', 'spawn', { powerOn: s.powerOn });
    if (!outcome.ok) throw this.stateError(outcome.error, 'spawn', s.uuid, existing);
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
      // From the caller's object, not the parsed one: the parser drops keys such as `__proto__`.
      metadata: copyMetadata((spec as Partial<InstanceSpec>).metadata ?? {}),
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

  async destroy(uuid: string, options?: CallOptions): Promise<void> {
    this.gate('destroy');
    const id = parseArg(UuidSchema, uuid, 'destroy', ['uuid']);
    checkAborted(options?.signal, 'destroy');
    const { record } = this.decide('destroy', 'destroy', id);
    if (record === undefined) return;
    this.instances.delete(key(id));
    this.nodes.release(record.node, record.usage);
    const power = powerStateOf(record.state);
    // As Nova's drivers do: tearing down a live guest reports it stopped.
    if (power === 'RUNNING' || power === 'PAUSED') this.events.emit(record.uuid, 'STOPPED', 'SHUTDOWN', record.node.id);
  }

  // ---- power ------------------------------------------------------------------------

  async powerOff(uuid: string, options?: PowerOffOptions): Promise<void> {
    this.gate('powerOff');
    const id = parseArg(UuidSchema, uuid, 'powerOff', ['uuid']);
    parseArg(GracefulTimeoutSchema, options?.gracefulTimeoutMs, 'powerOff', ['gracefulTimeoutMs']);
    this.simple('powerOff', 'powerOff', id, options);
  }

  async powerOn(uuid: string, options?: CallOptions): Promise<void> {
    this.simple('powerOn', 'powerOn', this.uuidArg('powerOn', uuid), options);
  }

  async reboot(uuid: string, type: RebootType, options?: CallOptions): Promise<void> {
    this.gate('reboot');
    const id = parseArg(UuidSchema, uuid, 'reboot', ['uuid']);
    const t = parseArg(RebootTypeSchema, type, 'reboot', ['type']);
    this.simple('reboot', t === 'SOFT' ? 'rebootSoft' : 'rebootHard', id, options);
  }

  async pause(uuid: string, options?: CallOptions): Promise<void> {
    this.simple('pause', 'pause', this.uuidArg('pause', uuid), options);
  }

  async unpause(uuid: string, options?: CallOptions): Promise<void> {
    this.simple('unpause', 'unpause', this.uuidArg('unpause', uuid), options);
  }

  async suspend(uuid: string, options?: CallOptions): Promise<void> {
    this.simple('suspend', 'suspend', this.uuidArg('suspend', uuid), options);
  }

  async resume(uuid: string, options?: CallOptions): Promise<void> {
    this.simple('resume', 'resume', this.uuidArg('resume', uuid), options);
  }

  async rescue(uuid: string, spec: RescueSpec, options?: CallOptions): Promise<void> {
    const id = this.uuidArg('rescue', uuid);
    const s = parseArg(RescueSpecSchema, spec ?? {}, 'rescue', ['spec']);
    checkAborted(options?.signal, 'rescue');
    const { record, outcome } = this.decide('rescue', 'rescue', id);
    if (outcome.noop) return;
    record!.rescueImage = s.image ?? record!.image;
    this.moveTo(record!, outcome.to as ExistingState, 'rescue');
  }

  async unrescue(uuid: string, options?: CallOptions): Promise<void> {
    this.simple('unrescue', 'unrescue', this.uuidArg('unrescue', uuid), options);
  }

  async rebuild(uuid: string, spec: RebuildSpec, options?: CallOptions): Promise<void> {
    const id = this.uuidArg('rebuild', uuid);
    const s = parseArg(RebuildSpecSchema, spec, 'rebuild', ['spec']);
    checkAborted(options?.signal, 'rebuild');
    const { record, outcome } = this.decide('rebuild', 'rebuild', id);
    const r = record!;
    r.image = s.image;
    if (s.metadata !== undefined) r.metadata = copyMetadata((spec as RebuildSpec).metadata ?? {});
    this.moveTo(r, outcome.to as ExistingState, 'rebuild');
  }

  // ---- images -----------------------------------------------------------------------

  async snapshot(uuid: string, spec: SnapshotSpec, options?: CallOptions): Promise<SnapshotResult> {
    const id = this.uuidArg('snapshot', uuid);
    const s = parseArg(SnapshotSpecSchema, spec, 'snapshot', ['spec']);
    checkAborted(options?.signal, 'snapshot');
    const r = this.decide('snapshot', 'snapshot', id).record!;
    const result: SnapshotResult = {
      imageId: randomUUID(),
      name: s.name,
      diskFormat: r.image.diskFormat,
      containerFormat: 'bare',
      ...(r.image.sizeBytes !== undefined ? { sizeBytes: r.image.sizeBytes } : {}),
    };
    this.snapshots.set(result.imageId, { result, sourceUuid: r.uuid });
    return { ...result };
  }

  async deleteSnapshot(imageId: string, options?: CallOptions): Promise<void> {
    this.gate('deleteSnapshot');
    const id = parseArg(IdentifierSchema, imageId, 'deleteSnapshot', ['imageId']);
    checkAborted(options?.signal, 'deleteSnapshot');
    this.snapshots.delete(id);
  }

  // ---- devices ----------------------------------------------------------------------

  async attachVolume(uuid: string, attachment: VolumeAttachment, options?: CallOptions): Promise<void> {
    const id = this.uuidArg('attachVolume', uuid);
    const a = parseArg(VolumeAttachmentSchema, attachment, 'attachVolume', ['attachment']);
    checkAborted(options?.signal, 'attachVolume');
    const r = this.decide('attachVolume', 'attachVolume', id, (rec) => ({ volumeAttached: rec.volumes.has(key(a.volumeId)) }), a.volumeId).record!;
    r.volumes.set(key(a.volumeId), a);
  }

  async detachVolume(uuid: string, volumeId: string, options?: CallOptions): Promise<void> {
    const id = this.uuidArg('detachVolume', uuid);
    const v = parseArg(UuidSchema, volumeId, 'detachVolume', ['volumeId']);
    checkAborted(options?.signal, 'detachVolume');
    const r = this.decide('detachVolume', 'detachVolume', id, (rec) => ({ volumeAttached: rec.volumes.has(key(v)) }), v).record!;
    r.volumes.delete(key(v));
  }

  async extendVolume(uuid: string, volumeId: string, newSizeGb: number, options?: CallOptions): Promise<void> {
    const id = this.uuidArg('extendVolume', uuid);
    const v = parseArg(UuidSchema, volumeId, 'extendVolume', ['volumeId']);
    const size = parseArg(NewSizeSchema, newSizeGb, 'extendVolume', ['newSizeGb']);
    checkAborted(options?.signal, 'extendVolume');
    const r = this.decide('extendVolume', 'extendVolume', id, (rec) => ({ volumeAttached: rec.volumes.has(key(v)) }), v).record!;
    const current = r.volumes.get(key(v))!;
    // Volumes only grow. This INVALID_INPUT depends on the attached volume, so it comes
    // after the state and device checks (a schema-level INVALID_INPUT comes before them).
    if (current.sizeGb !== undefined && size < current.sizeGb) {
      throw invalidField('extendVolume', ['newSizeGb'], `must not be smaller than the current size (${current.sizeGb} GiB): volumes only grow`);
    }
    r.volumes.set(key(v), { ...current, sizeGb: size });
  }

  async attachInterface(uuid: string, vif: Vif, options?: CallOptions): Promise<void> {
    const id = this.uuidArg('attachInterface', uuid);
    const parsed = parseArg(VifSchema, vif, 'attachInterface', ['vif']);
    checkAborted(options?.signal, 'attachInterface');
    const r = this.decide('attachInterface', 'attachInterface', id, (rec) => ({ interfaceAttached: rec.interfaces.has(key(parsed.id)) }), parsed.id).record!;
    r.interfaces.set(key(parsed.id), parsed);
  }

  async detachInterface(uuid: string, vifId: string, options?: CallOptions): Promise<void> {
    const id = this.uuidArg('detachInterface', uuid);
    const v = parseArg(UuidSchema, vifId, 'detachInterface', ['vifId']);
    checkAborted(options?.signal, 'detachInterface');
    const r = this.decide('detachInterface', 'detachInterface', id, (rec) => ({ interfaceAttached: rec.interfaces.has(key(v)) }), v).record!;
    r.interfaces.delete(key(v));
  }

  // ---- console and events -----------------------------------------------------------

  async getConsoleOutput(uuid: string, options?: CallOptions): Promise<ConsoleOutput> {
    const id = this.uuidArg('getConsoleOutput', uuid);
    checkAborted(options?.signal, 'getConsoleOutput');
    const r = this.decide('getConsoleOutput', 'getConsoleOutput', id).record!;
    const output = r.console.length === 0 ? '' : r.console.join('\n') + '\n';
    return { output, truncated: r.consoleTruncated };
  }

  subscribeEvents(listener: LifecycleListener): Unsubscribe {
    if (this.disabled.has('event.lifecycle')) throw errors.unsupported('event.lifecycle', 'subscribeEvents');
    parseArg(ListenerSchema, listener, 'subscribeEvents', ['listener']);
    return this.events.subscribe(listener);
  }

  // ---- testing hooks ----------------------------------------------------------------

  simulateCrash(uuid: string): void {
    this.moveTo(this.existing('simulateCrash', uuid), 'CRASHED', 'simulateCrash');
  }

  simulateNoState(uuid: string): void {
    this.moveTo(this.existing('simulateNoState', uuid), 'NOSTATE', 'simulateNoState');
  }

  listSnapshots(): SnapshotResult[] {
    return [...this.snapshots.values()].map((s) => ({ ...s.result }));
  }

  // ---- internals --------------------------------------------------------------------

  /** UNSUPPORTED when the operation's capability is declared missing: checked before anything else. */
  private gate(op: OperationName): void {
    const capability = OPERATIONS[op].capability;
    if (capability !== null && this.disabled.has(capability)) throw errors.unsupported(capability, op);
  }

  private uuidArg(op: OperationName, uuid: string): string {
    this.gate(op);
    return parseArg(UuidSchema, uuid, op, ['uuid']);
  }

  private existing(op: string, uuid: string): InstanceRecord {
    const id = parseArg(UuidSchema, uuid, op, ['uuid']);
    const record = this.instances.get(key(id));
    if (record === undefined) throw errors.notFound(id, op);
    return record;
  }

  /**
   * Ask the oracle what `tableOp` does to the instance now and raise its error if any. The
   * device context (is the volume / interface attached?) is read from the record.
   */
  private decide(
    op: OperationName,
    tableOp: TableOperation,
    uuid: string,
    context?: (record: InstanceRecord) => OutcomeContext,
    deviceId?: string,
  ): { record: InstanceRecord | undefined; outcome: { to: ExistingState | 'ABSENT'; noop: boolean } } {
    const record = this.instances.get(key(uuid));
    const outcome = expectedOutcome(record ? record.state : 'ABSENT', tableOp, record && context ? context(record) : {});
    if (!outcome.ok) throw this.stateError(outcome.error, op, uuid, record, deviceId);
    return { record, outcome: { to: outcome.to as ExistingState | 'ABSENT', noop: outcome.noop } };
  }

  private stateError(
    code: DriverError['code'],
    op: string,
    uuid: string,
    record: InstanceRecord | undefined,
    deviceId?: string,
  ): DriverError {
    switch (code) {
      case 'INSTANCE_NOT_FOUND':
        return errors.notFound(uuid, op);
      case 'INSTANCE_EXISTS':
        return errors.exists(uuid, op);
      case 'INVALID_STATE': {
        const state = record!.state;
        return errors.invalidState(uuid, state === 'RESCUE' ? 'RESCUE' : powerStateOf(state), op);
      }
      default:
        return new DriverError(code, { op, target: deviceId ?? uuid, detail: `instance ${uuid}` });
    }
  }

  /** A power-state operation without arguments beyond the uuid (and a fixed table column). */
  private simple(op: OperationName, tableOp: TableOperation, uuid: string, options: CallOptions | undefined): void {
    this.gate(op);
    checkAborted(options?.signal, op);
    const { record, outcome } = this.decide(op, tableOp, uuid);
    if (outcome.noop) return;
    this.moveTo(record!, outcome.to as ExistingState, op);
  }

  /** Apply a transition: state, console line, and an event when the power state changes. */
  private moveTo(record: InstanceRecord, to: ExistingState, op: string): void {
    const from = record.state;
    record.state = to;
    if (to !== 'RESCUE') record.rescueImage = undefined;
    const powerChanged = powerStateOf(from) !== powerStateOf(to);
    const kind = powerChanged ? eventKind(from, to) : undefined;
    const word = kind ?? ACTION_WORDS[op] ?? op.toUpperCase();
    appendConsole(record, `[${record.uuid}] ${word} ${op}: ${from} -> ${to}`, this.config.consoleLogLimit);
    if (kind !== undefined) this.events.emit(record.uuid, kind, powerStateOf(to), record.node.id);
  }
}

/** Create a reference driver. Throws INVALID_INPUT (paths under `config`) for a bad configuration. */
export function createReferenceDriver(config: ReferenceDriverConfig = {}): ReferenceDriver {
  return new ReferenceComputeDriver(config);
}
