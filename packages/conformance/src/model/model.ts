import {
  expectedOutcome,
  expectedUsage,
  eventKindsFor,
  powerStateOf,
  supports,
  FlavorSchema,
  OPERATIONS,
  type DriverCapabilities,
  type ErrorCode,
  type FlavorInput,
  type HostInventory,
  type InstanceSummary,
  type NodeInfo,
  type OutcomeContext,
  type PowerState,
  type SemanticState,
  type TableOperation,
} from '@nova-common/core';
import { contractOp, type Call } from '../commands/call.js';

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
  | { ok: true; to: SemanticState | undefined; noop: boolean; rule: string; event?: ExpectedEvent }
  | { ok: false; error: ErrorCode; rule: string };

export interface ExpectedEvent {
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
}

const key = (id: string): string => id.toLowerCase();

function sumUsage(target: Record<string, number>, usage: Record<string, number>, sign = 1): void {
  for (const [cls, n] of Object.entries(usage)) target[cls] = (target[cls] ?? 0) + sign * n;
}

/** expectedUsage of a flavor given in input form (defaults applied). */
export function usageOf(flavor: FlavorInput): Record<string, number> {
  return expectedUsage(FlavorSchema.parse(flavor));
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
  /** Table cells (`<state>:<column>`) this sequence has called, for coverage-directed commands. */
  readonly covered = new Set<string>();
  /** Snapshots produced by this sequence (by index) and whether they were deleted. */
  readonly snapshots: { name: string; deleted: boolean }[] = [];
  readonly preexisting: Map<string, InstanceSummary>;
  /** Inventory `used` per resource class, summed over nodes, before the sequence. */
  readonly baselineUsed: Record<string, number> = {};
  readonly baselineAvailableNodes: number;
  readonly multiNode: boolean;
  /** Slack added to declared bounds: the settle time, or none when the driver declares the bound 0 (synchronous). */
  private readonly releaseSlack: number;
  private readonly nodeSlack: number;

  constructor(
    readonly baseline: ModelBaseline,
    settleMs: number,
  ) {
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

  /** Inventory `used` bounds per class: [exact when all released, upper bound while releases are pending]. */
  usedBounds(now = performance.now()): { low: Record<string, number>; high: Record<string, number> } {
    const low: Record<string, number> = { ...this.baselineUsed };
    for (const inst of this.instances.values()) sumUsage(low, inst.usage);
    const high = { ...low };
    for (const p of this.pending) if (p.releaseBy + this.releaseSlack >= now) sumUsage(high, p.usage);
    return { low, high };
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
    if (op !== undefined) {
      const capability = OPERATIONS[op].capability;
      if (capability !== null && !supports(this.caps, capability)) {
        return { ok: false, error: 'UNSUPPORTED', rule: 'R-GEN-UNSUPPORTED' };
      }
    }
    switch (call.op) {
      case 'spawn': {
        const o = expectedOutcome(this.stateOf(call.spec.uuid), 'spawn', { powerOn: call.spec.powerOn ?? true });
        if (!o.ok) return o;
        if (call.variant === 'unknownNode') return { ok: false, error: 'NODE_NOT_FOUND', rule: 'R-SPAWN-ATOMIC' };
        const usage = usageOf(call.spec.flavor);
        if (call.variant === 'oversized' || !this.fits(usage) || this.nodeRoom() <= 0) {
          return { ok: false, error: 'INSUFFICIENT_RESOURCES', rule: 'R-SPAWN-ATOMIC' };
        }
        return { ok: true, to: o.to, noop: false, rule: o.rule };
      }
      case 'deleteSnapshot':
        return { ok: true, to: undefined, noop: true, rule: 'R-SNAPSHOT-DELETE' };
      case 'simulateCrash':
      case 'simulateNoState': {
        const from = this.stateOf(call.uuid);
        if (from === 'ABSENT') return { ok: false, error: 'INSTANCE_NOT_FOUND', rule: 'R-INFO-UNKNOWN' };
        const to: ExistingState = call.op === 'simulateCrash' ? 'CRASHED' : 'NOSTATE';
        return this.withEvent(call.uuid, from, { ok: true, to, noop: from === to, rule: 'R-EVENT-TRANSITION' });
      }
      default: {
        const state = this.stateOf(call.uuid);
        const inst = this.get(call.uuid);
        const ctx: OutcomeContext = {};
        let tableOp: TableOperation;
        switch (call.op) {
          case 'reboot':
            tableOp = call.type === 'SOFT' ? 'rebootSoft' : 'rebootHard';
            break;
          case 'attachVolume':
            tableOp = call.op;
            ctx.volumeAttached = inst?.volumes.has(key(call.attachment.volumeId)) ?? false;
            break;
          case 'detachVolume':
          case 'extendVolume':
            tableOp = call.op;
            ctx.volumeAttached = inst?.volumes.has(key(call.volumeId)) ?? false;
            break;
          case 'attachInterface':
            tableOp = call.op;
            ctx.interfaceAttached = inst?.interfaces.has(key(call.vif.id)) ?? false;
            break;
          case 'detachInterface':
            tableOp = call.op;
            ctx.interfaceAttached = inst?.interfaces.has(key(call.vifId)) ?? false;
            break;
          default:
            tableOp = call.op;
        }
        const o = expectedOutcome(state, tableOp, ctx);
        if (!o.ok) return o;
        if (state === 'ABSENT') return { ok: true, to: o.to, noop: o.noop, rule: o.rule };
        return this.withEvent(call.uuid, state, { ok: true, to: o.to, noop: o.noop, rule: o.rule });
      }
    }
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

  /** Apply a call that succeeded as expected. `now` is when the call returned. */
  apply(call: Call, e: Extract<Expectation, { ok: true }>, now: number): void {
    const caps = this.caps.eventualConsistency;
    switch (call.op) {
      case 'spawn': {
        const spec = call.spec;
        const inst: ModelInstance = {
          uuid: spec.uuid,
          state: e.to as ExistingState,
          name: spec.name,
          metadata: { ...(spec.metadata ?? {}) },
          usage: usageOf(spec.flavor),
          volumes: new Map((spec.blockDeviceInfo?.volumes ?? []).map((v) => [key(v.volumeId), v.sizeGb])),
          interfaces: new Map((spec.networkInfo ?? []).map((v) => [key(v.id), v.address.toLowerCase()])),
          node: undefined,
        };
        this.instances.set(key(spec.uuid), inst);
        this.created.add(key(spec.uuid));
        return;
      }
      case 'destroy': {
        const inst = this.get(call.uuid);
        if (!inst) return;
        this.instances.delete(key(call.uuid));
        this.pending.push({ uuid: inst.uuid, usage: inst.usage, releaseBy: now + caps.resourceReleaseMs, nodeBy: now + caps.nodeAvailableMs });
        return;
      }
      case 'snapshot':
        this.snapshots.push({ name: call.name, deleted: false });
        break;
      case 'deleteSnapshot':
        if ('produced' in call.image) {
          const s = this.snapshots[call.image.produced];
          if (s) s.deleted = true;
        }
        return;
      default:
        break;
    }
    const inst = this.get(call.uuid);
    if (!inst) return;
    if (e.to !== undefined && e.to !== 'ABSENT') inst.state = e.to;
    switch (call.op) {
      case 'rebuild':
        if (call.spec.metadata !== undefined) inst.metadata = { ...call.spec.metadata };
        break;
      case 'attachVolume':
        inst.volumes.set(key(call.attachment.volumeId), call.attachment.sizeGb);
        break;
      case 'detachVolume':
        inst.volumes.delete(key(call.volumeId));
        break;
      case 'extendVolume':
        inst.volumes.set(key(call.volumeId), call.newSizeGb);
        break;
      case 'attachInterface':
        inst.interfaces.set(key(call.vif.id), call.vif.address.toLowerCase());
        break;
      case 'detachInterface':
        inst.interfaces.delete(key(call.vifId));
        break;
      default:
        break;
    }
  }
}
