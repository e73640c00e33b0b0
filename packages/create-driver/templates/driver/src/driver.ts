import {
  DriverError,
  assertFits,
  declareCapabilities,
  enforceCell,
  expectedUsage,
  type CallOptions,
  type ComputeDriver,
  type DriverCapabilities,
  type HostInventory,
  type InstanceInfo,
  type InstanceSpec,
  type InstanceSummary,
  type NodeInfo,
  type NodeInventory,
  type SemanticState,
} from '@nova-common/core';
import { MemoryBackend, type Machine } from './backend.js';
import type { Config } from './manifest.js';

/**
 * The driver: the mandatory operations over the backend. Every optional operation is left
 * out and declared missing, so callers get UNSUPPORTED for it (the guard answers for the
 * driver). To add one, implement its method, declare its capability in getCapabilities, and
 * let `enforceCell` decide every outcome from the contract's semantics table.
 *
 * The guard in front of the driver validates arguments (uuids arrive in lower case), runs
 * calls on one instance one at a time and applies deadlines: none of that is written here.
 */
export class MemoryDriver implements ComputeDriver {
  private backend: MemoryBackend | undefined;

  constructor(private readonly config: Config) {}

  async initHost(_options?: CallOptions): Promise<void> {
    this.backend = MemoryBackend.connect(this.config.backend);
  }

  async cleanupHost(_options?: CallOptions): Promise<void> {
    this.backend = undefined;
  }

  async getCapabilities(_options?: CallOptions): Promise<DriverCapabilities> {
    // The core profile (launch, terminate, get guest info, images) is declared complete;
    // every other capability is declared missing.
    return declareCapabilities({ supported: [] });
  }

  async listNodes(_options?: CallOptions): Promise<NodeInfo[]> {
    return [{ id: this.config.node, available: true }];
  }

  async getInventory(_options?: CallOptions): Promise<HostInventory> {
    return { nodes: [this.nodeInventory()] };
  }

  async listInstances(_options?: CallOptions): Promise<InstanceSummary[]> {
    return this.owned().map((m) => ({ uuid: m.uuid, name: m.name, node: m.node, metadata: { ...m.metadata } }));
  }

  async getInfo(uuid: string, _options?: CallOptions): Promise<InstanceInfo> {
    const machine = this.find(uuid);
    enforceCell(stateOf(machine), 'getInfo', { op: 'getInfo', uuid });
    return toInfo(machine!);
  }

  async spawn(spec: InstanceSpec, _options?: CallOptions): Promise<void> {
    const existing = this.find(spec.uuid);
    const cell = enforceCell(stateOf(existing), 'spawn', { op: 'spawn', uuid: spec.uuid, ctx: { powerOn: spec.powerOn } });
    if (spec.node !== undefined && spec.node !== this.config.node) {
      throw new DriverError('NODE_NOT_FOUND', { op: 'spawn', target: spec.node });
    }
    const usage = expectedUsage(spec.flavor);
    assertFits(usage, this.nodeInventory(), { op: 'spawn', target: spec.uuid });
    this.connected().create({
      uuid: spec.uuid,
      name: spec.name,
      owner: this.config.owner,
      node: this.config.node,
      usage,
      running: cell.to === 'RUNNING',
      metadata: { ...spec.metadata },
      interfaces: spec.networkInfo.map((vif) => ({ id: vif.id, address: vif.address })).sort(byKey((i) => i.id)),
      volumes: spec.blockDeviceInfo.volumes
        .map((v) => ({
          volumeId: v.volumeId,
          ...(v.deviceName !== undefined ? { deviceName: v.deviceName } : {}),
          ...(v.sizeGb !== undefined ? { sizeGb: v.sizeGb } : {}),
        }))
        .sort(byKey((v) => v.volumeId)),
    });
  }

  async destroy(uuid: string, _options?: CallOptions): Promise<void> {
    const machine = this.find(uuid);
    const cell = enforceCell(stateOf(machine), 'destroy', { op: 'destroy', uuid });
    if (!cell.noop) this.connected().remove(uuid);
  }

  private connected(): MemoryBackend {
    if (this.backend === undefined) throw new DriverError('BACKEND_UNAVAILABLE', { detail: 'initHost was not called' });
    return this.backend;
  }

  /** This driver's machines: the backend may hold others' too. */
  private owned(): Machine[] {
    return this.connected()
      .list()
      .filter((m) => m.owner === this.config.owner);
  }

  private find(uuid: string): Machine | undefined {
    const machine = this.connected().get(uuid);
    return machine?.owner === this.config.owner ? machine : undefined;
  }

  private nodeInventory(): NodeInventory {
    const used: Record<string, number> = {};
    for (const m of this.owned()) for (const [cls, n] of Object.entries(m.usage)) used[cls] = (used[cls] ?? 0) + n;
    const record = (total: number, cls: string) => ({
      total,
      reserved: 0,
      used: used[cls] ?? 0,
      minUnit: 1,
      maxUnit: total,
      stepSize: 1,
      allocationRatio: 1,
    });
    return {
      node: this.config.node,
      resources: {
        VCPU: record(this.config.vcpus, 'VCPU'),
        MEMORY_MB: record(this.config.memoryMb, 'MEMORY_MB'),
        DISK_GB: record(this.config.diskGb, 'DISK_GB'),
      },
      traits: ['COMPUTE_NODE'],
    };
  }
}

/** The state the semantics table is read in: ABSENT when there is no such machine. */
function stateOf(machine: Machine | undefined): SemanticState {
  if (machine === undefined) return 'ABSENT';
  return machine.running ? 'RUNNING' : 'SHUTDOWN';
}

function toInfo(m: Machine): InstanceInfo {
  return {
    uuid: m.uuid,
    name: m.name,
    powerState: m.running ? 'RUNNING' : 'SHUTDOWN',
    mode: 'normal',
    node: m.node,
    metadata: { ...m.metadata },
    volumes: m.volumes.map((v) => ({ ...v })),
    interfaces: m.interfaces.map((i) => ({ ...i })),
  };
}

function byKey<T>(key: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}
