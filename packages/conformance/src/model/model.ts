import {
  expectedOutcome,
  SEMANTICS,
  type SemanticsTable,
  expectedUsage,
  eventKindsFor,
  powerStateOf,
  supports,
  FlavorSchema,
  OPERATIONS,
  NO_COLUMN_CAPABILITIES,
  capabilityOfColumn,
  type CapabilityId,
  type DriverCapabilities,
  type ErrorCode,
  type FlavorInput,
  type HostInventory,
  type InstanceSummary,
  type NodeInfo,
  type PowerState,
  type RuleId,
  type SemanticState,
  type TableOperation,
} from '@nova-common/core';
import { columnOf, contractOp, targetOf, type Call, type SimulationCall } from '../commands/call.js';
import { applyEffect, applyImages, deviceContext, outsideTable, refusedField, specOf } from './effects.js';

export type ExistingState = Exclude<SemanticState, 'ABSENT'>;

/**
 * The model of one instance: deliberately simpler than any driver. Volumes map to their
 * size when known; interfaces map to their MAC address.
 */
export interface ModelInstance {
  uuid: string;
  state: ExistingState;
  name: string;
  metadata: Record<string, string>;
  usage: Record<string, number>;
  volumes: Map<string, number | undefined>;
  interfaces: Map<string, string>;
  /** Learnt from the first getInfo. */
  node: string | undefined;
}

/** A destroyed instance whose resources may still count as used until `releaseBy` (performance.now()). */
export interface PendingRelease {
  uuid: string;
  usage: Record<string, number>;
  releaseBy: number;
  nodeBy: number;
}

/** What the model expects of a call. `event`: a lifecycle event that must follow (when events are declared). */
export type Expectation =
  | { ok: true; to: SemanticState | undefined; noop: boolean; rule: RuleId; event?: ExpectedEvent }
  | {
      ok: false;
      error: ErrorCode;
      rule: RuleId;
      /** UNSUPPORTED: the capability the error must name. */
      capability?: CapabilityId;
      /** INVALID_INPUT: the argument field the error's issues must name. */
      field?: string;
    };

/** UNSUPPORTED naming the capability that is declared missing. */
const unsupported = (capability: CapabilityId): Expectation => ({ ok: false, error: 'UNSUPPORTED', rule: 'R-GEN-UNSUPPORTED', capability });

interface ExpectedEvent {
  uuid: string;
  kinds: readonly string[];
  powerState: PowerState;
}

/** The driver's facts the model needs, read once at the start of every sequence. */
export interface ModelBaseline {
  caps: DriverCapabilities;
  /** Instances present before the sequence: never touched, always listed. */
  preexisting: InstanceSummary[];
  inventory: HostInventory;
  nodes: NodeInfo[];
  /** The semantics table the driver is held to (semanticsFor its baseline); default the current one. */
  table?: SemanticsTable;
}

export const key = (id: string): string => id.toLowerCase();

function sumUsage(target: Record<string, number>, usage: Record<string, number>, sign = 1): void {
  for (const [cls, n] of Object.entries(usage)) target[cls] = (target[cls] ?? 0) + sign * n;
}

const usages = new WeakMap<FlavorInput, Record<string, number>>();

/** expectedUsage of a flavor given in input form (defaults applied); computed once per flavor object. */
export function usageOf(flavor: FlavorInput): Record<string, number> {
  let usage = usages.get(flavor);
  if (usage === undefined) {
    usage = expectedUsage(FlavorSchema.parse(flavor));
    usages.set(flavor, usage);
  }
  return usage;
}

/**
 * The model: a Map of instances plus pending releases. Every expected outcome comes from
 * core's oracle (expectedOutcome, expectedUsage, eventKindsFor); nothing of the semantics
 * table is re-encoded here.
 */
export class Model {
  readonly instances = new Map<string, ModelInstance>();
  pending: PendingRelease[] = [];
  /** Every uuid this sequence spawned successfully. */
  readonly created = new Set<string>();
  /** Table cells this sequence has called (columns by state), for coverage-directed commands. */
  private readonly covered = new Map<SemanticState, Set<TableOperation>>();
  /** Snapshots produced by this sequence (by index) and whether they were deleted. */
  readonly snapshots: { name: string; deleted: boolean }[] = [];
  readonly preexisting: Map<string, InstanceSummary>;
  /** Inventory `used` per resource class, summed over nodes, before the sequence. */
  readonly baselineUsed: Record<string, number> = {};
  readonly baselineAvailableNodes: number;
  readonly multiNode: boolean;
  /** usedBounds without pending releases, until the instance set changes. */
  private bounds: { low: Record<string, number>; high: Record<string, number> } | undefined;
  /** Whether each operation's capability is declared (the UNSUPPORTED expectation), by operation. */
  private readonly declared = new Map<string, boolean>();
  /** Slack added to declared bounds: the settle time, or none when the driver declares the bound 0 (synchronous). */
  private readonly releaseSlack: number;
  private readonly nodeSlack: number;

  /** The semantics table expectations come from. */
  readonly table: SemanticsTable;

  constructor(
    readonly baseline: ModelBaseline,
    settleMs: number,
  ) {
    this.table = baseline.table ?? SEMANTICS;
    const ec = baseline.caps.eventualConsistency;
    this.releaseSlack = ec.resourceReleaseMs > 0 ? settleMs : 0;
    this.nodeSlack = ec.nodeAvailableMs > 0 ? settleMs : 0;
    this.preexisting = new Map(baseline.preexisting.map((s) => [key(s.uuid), s]));
    for (const node of baseline.inventory.nodes) {
      for (const [cls, rec] of Object.entries(node.resources)) this.baselineUsed[cls] = (this.baselineUsed[cls] ?? 0) + rec.used;
    }
    this.multiNode = baseline.caps.multiNode;
    this.baselineAvailableNodes = baseline.nodes.filter((n) => n.available).length;
  }

  cover(state: SemanticState, column: TableOperation): void {
    let columns = this.covered.get(state);
    if (columns === undefined) this.covered.set(state, (columns = new Set()));
    columns.add(column);
  }

  isCovered(state: SemanticState, column: TableOperation): boolean {
    return this.covered.get(state)?.has(column) ?? false;
  }

  get caps(): DriverCapabilities {
    return this.baseline.caps;
  }

  stateOf(uuid: string): SemanticState {
    return this.instances.get(key(uuid))?.state ?? 'ABSENT';
  }

  get(uuid: string): ModelInstance | undefined {
    return this.instances.get(key(uuid));
  }

  /** The instance a volume is attached to, if any. */
  volumeOwner(volumeId: string): string | undefined {
    const v = key(volumeId);
    for (const inst of this.instances.values()) if (inst.volumes.has(v)) return inst.uuid;
    return undefined;
  }

  interfaceOwner(vifId: string): string | undefined {
    const v = key(vifId);
    for (const inst of this.instances.values()) if (inst.interfaces.has(v)) return inst.uuid;
    return undefined;
  }

  /** Multi-node: how many more instances fit once every pending node release is over. */
  nodeRoom(): number {
    return this.multiNode ? this.baselineAvailableNodes - this.instances.size : Number.POSITIVE_INFINITY;
  }

  /** Drop pending releases whose deadline has passed: from now on they must be released. */
  expirePending(now = performance.now()): void {
    if (this.pending.length === 0) return;
    this.pending = this.pending.filter((p) => p.releaseBy + this.releaseSlack >= now || p.nodeBy + this.nodeSlack >= now);
  }

  /** The latest deadline of any pending release (0 when none). */
  pendingDeadline(): number {
    let max = 0;
    for (const p of this.pending) max = Math.max(max, p.releaseBy + this.releaseSlack, p.nodeBy + this.nodeSlack);
    return max;
  }

  /**
   * Inventory `used` bounds per class: [exact when all released, upper bound while releases
   * are pending]. The result is shared and must not be changed; it is recomputed only when
   * the instance set changed (or releases are pending).
   */
  usedBounds(now = performance.now()): { readonly low: Readonly<Record<string, number>>; readonly high: Readonly<Record<string, number>> } {
    if (this.bounds === undefined) {
      const low: Record<string, number> = { ...this.baselineUsed };
      for (const inst of this.instances.values()) sumUsage(low, inst.usage);
      this.bounds = { low, high: low };
    }
    if (this.pending.length === 0) return this.bounds;
    const high = { ...this.bounds.low };
    for (const p of this.pending) if (p.releaseBy + this.releaseSlack >= now) sumUsage(high, p.usage);
    return { low: this.bounds.low, high };
  }

  /**
   * Whether a flavor's usage fits some node with nothing on it (multi-node) or the one node
   * given the model's current usage (single node, upper bound while releases are pending).
   */
  fits(usage: Record<string, number>): boolean {
    const nodes = this.baseline.inventory.nodes;
    if (this.multiNode) {
      return nodes.some((n) =>
        Object.entries(usage).every(([cls, amount]) => {
          const r = n.resources[cls];
          return r !== undefined && amount <= r.maxUnit && amount <= (r.total - r.reserved) * r.allocationRatio;
        }),
      );
    }
    const { high } = this.usedBounds();
    return nodes.some((n) =>
      Object.entries(usage).every(([cls, amount]) => {
        const r = n.resources[cls];
        if (r === undefined || amount > r.maxUnit) return false;
        return (high[cls] ?? 0) + amount <= (r.total - r.reserved) * r.allocationRatio;
      }),
    );
  }

  /** Whether a flavor fits no node even when empty: a spawn of it must fail with INSUFFICIENT_RESOURCES. */
  neverFits(usage: Record<string, number>): boolean {
    return this.baseline.inventory.nodes.every((n) =>
      Object.entries(usage).some(([cls, amount]) => {
        const r = n.resources[cls];
        return r === undefined || amount > r.maxUnit || amount > (r.total - r.reserved) * r.allocationRatio * 2;
      }),
    );
  }

  /** The expected outcome of a call in the current model state. */
  expect(call: Call): Expectation {
    const op = contractOp(call);
    if (op === undefined) return this.expectSimulation(call as SimulationCall);
    let declared = this.declared.get(op);
    if (declared === undefined) {
      const capability = OPERATIONS[op].capability;
      this.declared.set(op, (declared = capability === null || supports(this.caps, capability)));
    }
    if (!declared) return unsupported(OPERATIONS[op].capability!);
    // A column that needs one more capability (restoreState to PAUSED or SUSPENDED).
    if (OPERATIONS[op].columnCapabilities !== NO_COLUMN_CAPABILITIES) {
      const extra = capabilityOfColumn(op, columnOf(call));
      if (extra !== undefined && !supports(this.caps, extra)) return unsupported(extra);
    }
    // spawn: the table's cell, then Placement (a model rule of its own: where the instance fits).
    if (call.op === 'spawn') {
      const o = expectedOutcome(this.stateOf(call.spec.uuid), 'spawn', { powerOn: call.spec.powerOn ?? true }, this.table);
      if (!o.ok) return o;
      if (call.variant === 'unknownNode') return { ok: false, error: 'NODE_NOT_FOUND', rule: 'R-SPAWN-NODE-UNKNOWN' };
      if (call.variant === 'undeclaredVifType') return { ok: false, error: 'INVALID_INPUT', rule: 'R-SPAWN-VIF-TYPE', field: 'type' };
      if (call.variant === 'oversized' || !this.fits(usageOf(call.spec.flavor)) || this.nodeRoom() <= 0) {
        return { ok: false, error: 'INSUFFICIENT_RESOURCES', rule: 'R-SPAWN-PLACEMENT' };
      }
      return { ok: true, to: o.to, noop: false, rule: o.rule };
    }
    const column = columnOf(call);
    if (column === undefined) return outsideTable(call);
    const uuid = targetOf(call)!;
    const inst = this.get(uuid);
    const state: SemanticState = inst?.state ?? 'ABSENT';
    const o = expectedOutcome(state, column, deviceContext(inst, call), this.table);
    if (!o.ok) return o;
    if (state === 'ABSENT') return { ok: true, to: o.to, noop: o.noop, rule: o.rule };
    const field = refusedField(inst!, call);
    if (field !== undefined) return { ok: false, error: 'INVALID_INPUT', rule: o.rule, field };
    return this.withEvent(uuid, state, { ok: true, to: o.to, noop: o.noop, rule: o.rule });
  }

  private expectSimulation(call: SimulationCall): Expectation {
    const from = this.stateOf(call.uuid);
    if (from === 'ABSENT') return { ok: false, error: 'INSTANCE_NOT_FOUND', rule: 'R-INFO-UNKNOWN' };
    const to: ExistingState = call.op === 'simulateCrash' ? 'CRASHED' : 'NOSTATE';
    return this.withEvent(call.uuid, from, { ok: true, to, noop: from === to, rule: 'R-EVENT-TRANSITION' });
  }

  /** Add the lifecycle event an existing instance's power change must produce. */
  private withEvent(uuid: string, from: ExistingState, e: Extract<Expectation, { ok: true }>): Expectation {
    if (e.to === undefined || e.to === 'ABSENT') return e;
    const fromPower = powerStateOf(from);
    const toPower = powerStateOf(e.to);
    const kinds = eventKindsFor(e.to);
    if (fromPower === toPower || kinds.length === 0) return e;
    return { ...e, event: { uuid, kinds, powerState: toPower } };
  }

  /**
   * Apply a call that succeeded as expected. `now` is when the call returned. The instance set
   * follows the table (a call leading from ABSENT creates the instance its spec describes, one
   * leading to ABSENT removes it, with its resources pending release); what else a call
   * changes is the operation's own model rule (effects.ts).
   */
  apply(call: Call, e: Extract<Expectation, { ok: true }>, now: number): void {
    applyImages(this.snapshots, call);
    const uuid = targetOf(call);
    if (uuid === undefined || e.to === undefined) return;
    const inst = this.get(uuid);
    if (inst === undefined) {
      const spec = specOf(call);
      if (spec === undefined || e.to === 'ABSENT') return;
      this.bounds = undefined;
      this.instances.set(key(spec.uuid), {
        uuid: spec.uuid,
        state: e.to,
        name: spec.name,
        metadata: { ...(spec.metadata ?? {}) },
        usage: usageOf(spec.flavor),
        volumes: new Map((spec.blockDeviceInfo?.volumes ?? []).map((v) => [key(v.volumeId), v.sizeGb])),
        interfaces: new Map((spec.networkInfo ?? []).map((v) => [key(v.id), v.address.toLowerCase()])),
        node: undefined,
      });
      this.created.add(key(spec.uuid));
      return;
    }
    if (e.to === 'ABSENT') {
      const caps = this.caps.eventualConsistency;
      this.bounds = undefined;
      this.instances.delete(key(uuid));
      this.pending.push({ uuid: inst.uuid, usage: inst.usage, releaseBy: now + caps.resourceReleaseMs, nodeBy: now + caps.nodeAvailableMs });
      return;
    }
    inst.state = e.to;
    applyEffect(inst, call);
  }
}
