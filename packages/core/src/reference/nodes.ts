import { DriverError } from '../errors/driver-error.js';
import type { HostInventory, InventoryRecord, NodeInfo, NodeInventory } from '../schemas/inventory.js';
import { REFERENCE_NODE_RESOURCE_CLASS, type ResolvedReferenceDriverConfig } from './config.js';

/** Resources an instance consumes, as [resource class, amount] pairs (expectedUsage of its flavor). */
export type Usage = ReadonlyArray<readonly [string, number]>;

interface ResourceLimit {
  readonly total: number;
  readonly reserved: number;
  readonly allocationRatio: number;
  readonly maxUnit: number;
  /** (total - reserved) * allocationRatio, Placement's capacity. */
  readonly capacity: number;
}

/** One node: fixed limits plus usage counters kept up to date on every spawn and release. */
export class ReferenceNode {
  readonly used = new Map<string, number>();
  /** Multi-node only: the instance occupying the node. */
  instanceUuid: string | undefined;
  /** Destroyed instances whose resources are still being released (cleaning). */
  pendingReleases = 0;

  constructor(
    readonly id: string,
    readonly limits: ReadonlyMap<string, ResourceLimit>,
  ) {
    for (const cls of limits.keys()) this.used.set(cls, 0);
  }

  fits(usage: Usage): boolean {
    for (const [cls, amount] of usage) {
      const limit = this.limits.get(cls);
      if (limit === undefined || amount > limit.maxUnit) return false;
      if ((this.used.get(cls) ?? 0) + amount > limit.capacity) return false;
    }
    return true;
  }

  add(usage: Usage, sign: 1 | -1): void {
    for (const [cls, amount] of usage) this.used.set(cls, (this.used.get(cls) ?? 0) + sign * amount);
  }
}

interface PendingRelease {
  readonly node: ReferenceNode;
  readonly usage: Usage;
  /** performance.now() at which the release is due. */
  readonly at: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  done: boolean;
}

function limit(total: number, reserved: number, allocationRatio: number): ResourceLimit {
  return { total, reserved, allocationRatio, maxUnit: total, capacity: (total - reserved) * allocationRatio };
}

/**
 * The nodes of the reference driver and their inventory. Usage is counted incrementally:
 * getInventory reads counters and never scans instances. With several nodes each node
 * holds at most one instance, and free nodes are kept in a set so placement is O(1).
 */
export class NodePool {
  readonly multiNode: boolean;
  readonly nodes: readonly ReferenceNode[];
  private readonly byId = new Map<string, ReferenceNode>();
  /** Multi-node: nodes with no instance and nothing being cleaned, in the order they became free. */
  private readonly free = new Set<ReferenceNode>();
  /** Releases in due order (the delay is constant, so a FIFO is sorted); `head` is the first not yet done. */
  private pending: PendingRelease[] = [];
  private head = 0;
  private readonly traits: readonly string[];

  constructor(private readonly config: ResolvedReferenceDriverConfig) {
    this.multiNode = config.nodes > 1;
    const c = config.capacity;
    const limits = new Map<string, ResourceLimit>([
      ['VCPU', limit(c.vcpus, c.reservedVcpus, c.cpuAllocationRatio ?? (this.multiNode ? 1 : 16))],
      ['MEMORY_MB', limit(c.memoryMb, c.reservedMemoryMb, c.ramAllocationRatio ?? (this.multiNode ? 1 : 1.5))],
      ['DISK_GB', limit(c.diskGb, c.reservedDiskGb, c.diskAllocationRatio ?? 1)],
    ]);
    if (this.multiNode) limits.set(REFERENCE_NODE_RESOURCE_CLASS, limit(1, 0, 1));
    this.traits = this.multiNode ? ['COMPUTE_NODE', 'CUSTOM_REFERENCE_BAREMETAL'] : ['COMPUTE_NODE'];
    const nodes: ReferenceNode[] = [];
    for (let i = 0; i < config.nodes; i++) {
      const node = new ReferenceNode(`reference-node-${i}`, limits);
      nodes.push(node);
      this.byId.set(node.id, node);
      if (this.multiNode) this.free.add(node);
    }
    this.nodes = nodes;
  }

  /**
   * The node a new instance with `usage` goes to, or the spawn error. Changes nothing.
   * With several nodes every node has the same limits and a free node uses nothing, so the
   * first free node fits exactly when any does.
   */
  place(usage: Usage, nodeId: string | undefined): ReferenceNode {
    this.drainDue();
    let node: ReferenceNode | undefined;
    if (nodeId !== undefined) {
      node = this.byId.get(nodeId);
      if (node === undefined) throw new DriverError('NODE_NOT_FOUND', { op: 'spawn', target: nodeId });
      if (this.multiNode && !this.free.has(node)) {
        throw new DriverError('NODE_UNAVAILABLE', { op: 'spawn', target: nodeId, detail: node.instanceUuid ? 'in use' : 'cleaning' });
      }
    } else if (this.multiNode) {
      node = this.free.values().next().value;
      if (node === undefined) throw new DriverError('INSUFFICIENT_RESOURCES', { op: 'spawn', detail: 'no node is available' });
    } else {
      node = this.nodes[0]!;
    }
    if (!node.fits(usage)) {
      throw new DriverError('INSUFFICIENT_RESOURCES', { op: 'spawn', target: node.id, detail: `requested ${formatUsage(usage)}` });
    }
    return node;
  }

  allocate(node: ReferenceNode, uuid: string, usage: Usage): void {
    node.add(usage, 1);
    if (this.multiNode) {
      node.instanceUuid = uuid;
      this.free.delete(node);
    }
  }

  /** Give back what a destroyed instance used, now or after the configured cleaning delay. */
  release(node: ReferenceNode, usage: Usage): void {
    if (this.multiNode) node.instanceUuid = undefined;
    const delay = this.config.releaseDelayMs;
    if (delay === 0) {
      this.finish(node, usage);
      return;
    }
    node.pendingReleases++;
    const entry: PendingRelease = { node, usage, at: performance.now() + delay, timer: undefined, done: false };
    entry.timer = setTimeout(() => this.complete(entry), delay);
    entry.timer.unref?.();
    this.pending.push(entry);
  }

  /** Complete every release now (cleanupHost): no timer outlives the driver. */
  flush(): void {
    for (let i = this.head; i < this.pending.length; i++) this.complete(this.pending[i]!);
    this.pending = [];
    this.head = 0;
  }

  nodeInfos(): NodeInfo[] {
    this.drainDue();
    return this.nodes.map((node): NodeInfo => {
      if (!this.multiNode || this.free.has(node)) return { id: node.id, available: true };
      if (node.instanceUuid !== undefined) return { id: node.id, available: false, unavailableReason: 'in-use', instanceUuid: node.instanceUuid };
      return { id: node.id, available: false, unavailableReason: 'cleaning' };
    });
  }

  inventory(): HostInventory {
    this.drainDue();
    return {
      nodes: this.nodes.map((node): NodeInventory => {
        const resources: Record<string, InventoryRecord> = {};
        for (const [cls, l] of node.limits) {
          resources[cls] = {
            total: l.total,
            reserved: l.reserved,
            used: node.used.get(cls) ?? 0,
            minUnit: 1,
            maxUnit: l.maxUnit,
            stepSize: 1,
            allocationRatio: l.allocationRatio,
          };
        }
        return { node: node.id, resources, traits: [...this.traits] };
      }),
    };
  }

  private finish(node: ReferenceNode, usage: Usage): void {
    node.add(usage, -1);
    if (this.multiNode && node.instanceUuid === undefined && node.pendingReleases === 0) this.free.add(node);
  }

  private complete(entry: PendingRelease): void {
    if (entry.done) return;
    entry.done = true;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.node.pendingReleases--;
    this.finish(entry.node, entry.usage);
  }

  /**
   * Complete the releases that are due, so a reader never sees one late because its timer
   * fired late. O(number due); the queue is compacted once its done prefix is large.
   */
  private drainDue(): void {
    if (this.head === this.pending.length) return;
    const now = performance.now();
    while (this.head < this.pending.length) {
      const entry = this.pending[this.head]!;
      if (!entry.done && entry.at > now) break;
      this.complete(entry);
      this.head++;
    }
    if (this.head === this.pending.length) {
      this.pending = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
  }
}

function formatUsage(usage: Usage): string {
  return usage.map(([cls, n]) => `${cls}=${n}`).join(', ');
}
