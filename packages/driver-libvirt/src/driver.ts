import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import {
  DriverError,
  IdentifierSchema,
  InstanceSpecSchema,
  RebootTypeSchema,
  RebuildSpecSchema,
  RescueSpecSchema,
  SnapshotSpecSchema,
  UuidSchema,
  VifSchema,
  VolumeAttachmentSchema,
  declareCapabilities,
  errors,
  expectedOutcome,
  expectedUsage,
  type CallOptions,
  type CapabilityId,
  type ComputeDriver,
  type ConsoleOutput,
  type DriverCapabilities,
  type HostInventory,
  type ImageMeta,
  type InstanceInfo,
  type InstanceSpec,
  type InstanceSummary,
  type InventoryRecord,
  type LifecycleEvent,
  type LifecycleListener,
  type NodeInfo,
  type OutcomeContext,
  type PowerOffOptions,
  type RebootType,
  type RebuildSpec,
  type RescueSpec,
  type SemanticState,
  type SnapshotResult,
  type SnapshotSpec,
  type TableOperation,
  type Unsubscribe,
  type Vif,
  type VolumeAttachment,
} from '@nova-common/core';
import { LibvirtClient } from './client/libvirt-client.js';
import { LibvirtError } from './client/errors.js';
import { DomainState, Flags, VirErr, bytesToUuid, type DomainRef, type LifecycleMessage } from './client/protocol/remote-types.js';
import { LibvirtDriverConfigSchema, daemonUri, inferDomainType, type LibvirtDriverConfig, type LibvirtDriverConfigInput } from './config.js';
import {
  BUS_PREFIX,
  buildDomainXml,
  consoleLogPath,
  domainName,
  interfaceXml,
  localDiskPath,
  nextTarget,
  rescueDiskPath,
  rootDiskPath,
  volumeDiskXml,
  type DomainEnvironment,
  type DomainType,
} from './mapping/domain-xml.js';
import { METADATA_KEY, METADATA_NS, type ImageRecord, type InstanceRecord, type VolumeRecord } from './mapping/instance-record.js';
import { buildInstanceMetadata } from './mapping/metadata-xml.js';
import { parseDomainXml, parseInstanceMetadata, type ParsedDomain } from './mapping/xml-read.js';
import { isActive, powerStateOf, semanticStateOf } from './mapping/state.js';
import { isLibvirtCode, toContractError } from './mapping/errors.js';
import { mapLifecycleEvent } from './mapping/events.js';
import * as files from './host-files.js';

/** Hooks for fault-injection tests; not part of the configuration. */
export interface LibvirtDriverTestHooks {
  /** Awaited in spawn between DEFINE and START. */
  afterDefine?: (uuid: string) => Promise<void>;
}

const GracefulTimeoutSchema = z.number().int().min(0).max(3_600_000).optional();
const CONSOLE_TAIL_BYTES = 64 * 1024;
const DETACH_WAIT_MS = 30_000;
const POLL_MS = 100;

/** What the driver reads about one of its instances before acting on it. */
interface Loaded {
  ref: DomainRef;
  state: number;
  reason: number;
  managedSave: boolean;
  domain: ParsedDomain;
  record: InstanceRecord;
  semantic: Exclude<SemanticState, 'ABSENT'>;
}

function parseArg<S extends z.ZodType>(schema: S, value: unknown, op: string, prefix: (string | number)[]): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw errors.invalidInput(
    r.error.issues.map((i) => ({ path: [...prefix, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: i.message })),
    op,
  );
}

function ownMetadata(raw: unknown): Record<string, string> {
  // From the caller's object, not the parsed copy: zod drops keys such as `__proto__`.
  const out: Record<string, string> = {};
  if (raw && typeof raw === 'object') {
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof v === 'string') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DriverError('CANCELLED', { detail: 'aborted' }));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new DriverError('CANCELLED', { detail: 'aborted while waiting' }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function imageRecord(image: ImageMeta): ImageRecord {
  return {
    id: image.id,
    diskFormat: image.diskFormat,
    containerFormat: image.containerFormat,
    diskBus: image.properties.hwDiskBus ?? 'virtio',
    vifModel: image.properties.hwVifModel ?? 'virtio',
    ...(image.properties.hwMachineType !== undefined ? { machine: image.properties.hwMachineType } : {}),
  };
}

/**
 * The libvirt compute driver. Every operation reads the domain's state from libvirtd first
 * (DOMAIN_GET_STATE and the live XML), decides the outcome with core's semantics table
 * (expectedOutcome), and only then calls libvirt, so backend differences never reach the
 * caller.
 */
export class LibvirtComputeDriver implements ComputeDriver {
  readonly config: LibvirtDriverConfig;
  readonly domainType: DomainType;
  private readonly client: LibvirtClient;
  private readonly session = randomUUID();
  private readonly hooks: LibvirtDriverTestHooks;
  private nodeName = '';
  private initialized = false;
  private readonly listeners = new Set<LifecycleListener>();
  /** Uuids of instances this driver knows it owns (for event filtering only, never for state). */
  private readonly owned = new Set<string>();
  /** Spawns in flight in this driver: the sweep leaves them alone. */
  private readonly inFlight = new Set<string>();
  private sweepNeeded = false;
  private sweeping: Promise<void> | undefined;
  private eventChain: Promise<void> = Promise.resolve();

  constructor(config: LibvirtDriverConfigInput = {}, hooks: LibvirtDriverTestHooks = {}) {
    this.config = parseArg(LibvirtDriverConfigSchema, config, 'createLibvirtDriver', ['config']);
    this.domainType = inferDomainType(this.config);
    this.hooks = hooks;
    this.client = new LibvirtClient({
      socketPath: this.config.socketPath,
      uri: daemonUri(this.config.uri),
      callTimeoutMs: this.config.callTimeoutMs,
      connectTimeoutMs: this.config.connectTimeoutMs,
      keepaliveIntervalMs: this.config.keepaliveIntervalMs,
      keepaliveCount: this.config.keepaliveCount,
    });
    this.client.on('lifecycle', (m) => this.onLifecycle(m));
    this.client.on('open', ({ reconnect }) => {
      if (reconnect) this.sweepNeeded = true;
    });
  }

  /** The underlying protocol client (for benchmarks and tests). */
  get libvirt(): LibvirtClient {
    return this.client;
  }

  private get files(): boolean {
    return this.domainType !== 'test';
  }

  private env(uuid: string): DomainEnvironment {
    return {
      domainType: this.domainType,
      namePrefix: this.config.namePrefix,
      instanceDir: files.inside(this.config.instancesDir, uuid.toLowerCase()),
      ...(this.config.kernel !== undefined ? { kernel: this.config.kernel } : {}),
      ...(this.config.initrd !== undefined ? { initrd: this.config.initrd } : {}),
      kernelArgs: this.config.kernelArgs,
      consoleLog: this.files,
    };
  }

  private ref(uuid: string): DomainRef {
    return LibvirtClient.ref(domainName(this.config.namePrefix, uuid), uuid);
  }

  // ---- host -------------------------------------------------------------------------

  async initHost(options?: CallOptions): Promise<void> {
    try {
      await this.client.connect();
      this.nodeName = this.config.nodeName ?? (await this.client.getHostname({ signal: options?.signal }).catch(() => hostname()));
      await this.client.registerLifecycle({ signal: options?.signal });
      this.initialized = true;
      this.sweepNeeded = true;
      await this.ready('initHost', options);
    } catch (err) {
      throw toContractError(err, 'initHost');
    }
  }

  async cleanupHost(): Promise<void> {
    this.initialized = false;
    await this.client.deregisterLifecycle().catch(() => undefined);
    await this.client.close().catch(() => undefined);
  }

  async getCapabilities(): Promise<DriverCapabilities> {
    const supported: CapabilityId[] = [
      'operation.launch',
      'operation.terminate',
      'operation.get-guest-info',
      'storage.image',
      'operation.power-on-off',
      'operation.reboot',
      'operation.pause',
      'operation.unpause',
      'operation.suspend',
      'operation.resume',
      'operation.rebuild',
      'operation.rescue',
      'operation.snapshot',
      'event.lifecycle',
    ];
    const partial: Partial<Record<CapabilityId, string>> = {};
    if (this.files) {
      // Device hot-plug needs a hypervisor: libvirt's test driver cannot attach or detach devices.
      supported.push('operation.attach-volume', 'operation.detach-volume', 'operation.attach-interface', 'operation.detach-interface', 'console.serial.log');
    } else {
      partial['operation.snapshot'] = "On libvirt's test driver a snapshot is libvirt snapshot metadata of the domain; it goes away with the instance.";
    }
    return declareCapabilities({
      supported,
      partial,
      multiNode: false,
      // Volumes given at spawn go into the domain XML on every backend; hot-plug needs a hypervisor.
      volumeTransports: ['file', 'block'],
      eventualConsistency: { resourceReleaseMs: 0, eventDeliveryMs: this.config.eventDeliveryMs, nodeAvailableMs: 0 },
    });
  }

  async listNodes(options?: CallOptions): Promise<NodeInfo[]> {
    await this.ready('listNodes', options);
    return [{ id: this.nodeName, available: true }];
  }

  async getInventory(options?: CallOptions): Promise<HostInventory> {
    await this.ready('getInventory', options);
    try {
      return await this.inventory(options);
    } catch (err) {
      throw toContractError(err, 'getInventory');
    }
  }

  /**
   * Placement's check, done by the driver since it owns the inventory: the flavor must fit in
   * what is left of every class it uses ((total - reserved) * ratio - used, and maxUnit).
   */
  private async checkFits(flavor: InstanceSpec['flavor'], uuid: string, options?: CallOptions): Promise<void> {
    const inv = (await this.inventory(options)).nodes[0]!;
    for (const [cls, amount] of Object.entries(expectedUsage(flavor))) {
      const r = inv.resources[cls];
      if (!r || amount > r.maxUnit || r.used + amount > (r.total - r.reserved) * r.allocationRatio) {
        throw new DriverError('INSUFFICIENT_RESOURCES', { op: 'spawn', target: uuid, detail: `${cls}: ${amount} requested, ${r ? Math.max(0, (r.total - r.reserved) * r.allocationRatio - r.used) : 0} free` });
      }
    }
  }

  private async inventory(options?: CallOptions): Promise<HostInventory> {
    {
      const [node, instances] = await Promise.all([this.client.nodeGetInfo({ signal: options?.signal }), this.listOwned(options)]);
      const used: Record<string, number> = {};
      for (const r of instances) {
        for (const [cls, n] of Object.entries(expectedUsage(r.flavor))) used[cls] = (used[cls] ?? 0) + n;
      }
      const memoryMb = Number(node.memoryKib / 1024n);
      const diskGb = this.config.diskTotalGb ?? (await files.filesystemGb(this.config.instancesDir));
      const rec = (total: number, reserved: number, ratio: number, cls: string): InventoryRecord => ({
        total,
        reserved: Math.min(reserved, total),
        used: used[cls] ?? 0,
        minUnit: 1,
        maxUnit: Math.max(1, total),
        stepSize: 1,
        allocationRatio: ratio,
      });
      const resources: Record<string, InventoryRecord> = {
        VCPU: rec(node.cpus, 0, this.config.cpuAllocationRatio, 'VCPU'),
        MEMORY_MB: rec(memoryMb, this.config.reservedHostMemoryMb, this.config.ramAllocationRatio, 'MEMORY_MB'),
        DISK_GB: rec(diskGb, 0, this.config.diskAllocationRatio, 'DISK_GB'),
      };
      // Classes a flavor asks for through `resources:<CLASS>` that this host does not provide
      // are still reported, with no capacity, so `used` sums up (R-INV-USED).
      for (const cls of Object.keys(used)) if (!(cls in resources)) resources[cls] = rec(0, 0, 1, cls);
      return { nodes: [{ node: this.nodeName, resources, traits: ['COMPUTE_NODE'] }] };
    }
  }

  // ---- instances --------------------------------------------------------------------

  async listInstances(options?: CallOptions): Promise<InstanceSummary[]> {
    await this.ready('listInstances', options);
    try {
      const records = await this.listOwned(options);
      return records.map((r) => ({ uuid: r.uuid, name: r.name, node: this.nodeName, metadata: { ...r.metadata } }));
    } catch (err) {
      throw toContractError(err, 'listInstances');
    }
  }

  async getInfo(uuid: string, options?: CallOptions): Promise<InstanceInfo> {
    const id = parseArg(UuidSchema, uuid, 'getInfo', ['uuid']);
    await this.ready('getInfo', options);
    const l = await this.decide('getInfo', 'getInfo', id, options);
    return this.info(l.loaded!);
  }

  async spawn(spec: InstanceSpec, options?: CallOptions): Promise<void> {
    const op = 'spawn';
    const s = parseArg(InstanceSpecSchema, spec, op, ['spec']);
    const uuid = s.uuid.toLowerCase();
    const metadata = ownMetadata((spec as { metadata?: unknown }).metadata);
    // Checks the schema cannot express, all before any libvirt call.
    const issues: { path: (string | number)[]; message: string }[] = [];
    s.blockDeviceInfo.volumes.forEach((v, i) => {
      if (v.connectionInfo.driverVolumeType !== 'file' && v.connectionInfo.driverVolumeType !== 'block') {
        issues.push({ path: ['spec', 'blockDeviceInfo', 'volumes', i, 'connectionInfo', 'driverVolumeType'], message: `transport ${v.connectionInfo.driverVolumeType} is not supported by this driver` });
      }
    });
    if (this.files) {
      if (!files.isSafeFileName(s.image.id)) issues.push({ path: ['spec', 'image', 'id'], message: 'must be a plain file name in the image directory' });
      else if (!(await files.exists(files.inside(this.config.imageDir, s.image.id)))) {
        issues.push({ path: ['spec', 'image', 'id'], message: `no image ${s.image.id} in ${this.config.imageDir}` });
      }
    }
    if (issues.length > 0) throw errors.invalidInput(issues, op);
    if (s.node !== undefined && s.node !== this.nodeName && this.initialized) throw new DriverError('NODE_NOT_FOUND', { op, target: s.node });
    this.checkAborted(options, op);
    await this.ready(op, options);
    if (s.node !== undefined && s.node !== this.nodeName) throw new DriverError('NODE_NOT_FOUND', { op, target: s.node });

    const record = this.recordFromSpec(s, uuid, metadata);
    const env = this.env(uuid);
    const ref = this.ref(uuid);
    const xml = buildDomainXml(record, env);
    this.inFlight.add(uuid);
    try {
      const existing = await this.probe(uuid, options);
      if (existing !== 'absent') throw errors.exists(uuid, op);
      await this.checkFits(s.flavor, uuid, options);
      let defined = false;
      try {
        if (this.files) await this.makeDisks(record, env, s);
        try {
          await this.client.defineXml(xml, 0, { signal: options?.signal });
        } catch (err) {
          // Another domain already holds this name (with a different uuid).
          if (isLibvirtCode(err, VirErr.DOM_EXIST, VirErr.OPERATION_FAILED) && /already exists|already defined/i.test((err as Error).message)) throw errors.exists(uuid, op);
          throw err;
        }
        defined = true;
        this.owned.add(uuid);
        if (this.hooks.afterDefine) await this.hooks.afterDefine(uuid);
        if (s.powerOn) await this.client.create(ref, 0, { signal: options?.signal });
        record.phase = 'ready';
        await this.client.setMetadata(ref, buildInstanceMetadata(record, '', true), METADATA_KEY, METADATA_NS, s.powerOn ? Flags.AFFECT_LIVE | Flags.AFFECT_CONFIG : Flags.AFFECT_CONFIG);
      } catch (err) {
        // Atomic spawn: take back everything made so far. If libvirtd is gone this fails too;
        // the domain is still marked `spawning` and the sweep after reconnect removes it.
        if (defined) await this.removeDomain(ref, uuid).catch(() => (this.sweepNeeded = true));
        else if (this.files) await files.removeTree(env.instanceDir).catch(() => undefined);
        this.owned.delete(uuid);
        throw err;
      }
    } catch (err) {
      throw toContractError(err, op, uuid);
    } finally {
      this.inFlight.delete(uuid);
    }
  }

  async destroy(uuid: string, options?: CallOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'destroy', ['uuid']).toLowerCase();
    await this.ready('destroy', options);
    const { loaded } = await this.decide('destroy', 'destroy', id, options);
    if (!loaded) return;
    try {
      await this.removeDomain(loaded.ref, id, loaded.state);
    } catch (err) {
      throw toContractError(err, 'destroy', id);
    }
  }

  // ---- power ------------------------------------------------------------------------

  async powerOff(uuid: string, options?: PowerOffOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'powerOff', ['uuid']);
    const graceful = parseArg(GracefulTimeoutSchema, options?.gracefulTimeoutMs, 'powerOff', ['gracefulTimeoutMs']) ?? this.config.acpiShutdownTimeoutMs;
    await this.act('powerOff', 'powerOff', id, options, async (l) => {
      if (l.state === DomainState.RUNNING || l.state === DomainState.BLOCKED || l.state === DomainState.SHUTDOWN) {
        if (graceful > 0 && (await this.acpiShutdown(l.ref, graceful, options))) return;
      }
      await this.hardStop(l.ref);
    });
  }

  async powerOn(uuid: string, options?: CallOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'powerOn', ['uuid']);
    await this.act('powerOn', 'powerOn', id, options, async (l) => {
      if (isActive(l.state)) await this.hardStop(l.ref); // CRASHED/NOSTATE leftovers
      await this.client.create(l.ref, 0, { signal: options?.signal });
    });
  }

  async reboot(uuid: string, type: RebootType, options?: CallOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'reboot', ['uuid']);
    const t = parseArg(RebootTypeSchema, type, 'reboot', ['type']);
    await this.act('reboot', t === 'SOFT' ? 'rebootSoft' : 'rebootHard', id, options, async (l) => {
      const running = l.state === DomainState.RUNNING || l.state === DomainState.BLOCKED;
      // Soft, as Nova does it: ACPI shutdown, wait, start again; a guest that does not shut
      // down in time (or a paused/off one) gets the hard path.
      if (t === 'SOFT' && running && this.config.softRebootTimeoutMs > 0 && (await this.acpiShutdown(l.ref, this.config.softRebootTimeoutMs, options))) {
        await this.client.create(l.ref, 0, { signal: options?.signal });
        return;
      }
      await this.hardStop(l.ref);
      // A hard reboot starts fresh: a managed save image would be restored instead, so drop it.
      if (await this.client.hasManagedSaveImage(l.ref)) await this.client.managedSaveRemove(l.ref);
      await this.client.create(l.ref, 0, { signal: options?.signal });
    });
  }

  async pause(uuid: string, options?: CallOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'pause', ['uuid']);
    await this.act('pause', 'pause', id, options, (l) => this.client.suspend(l.ref, { signal: options?.signal }));
  }

  async unpause(uuid: string, options?: CallOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'unpause', ['uuid']);
    await this.act('unpause', 'unpause', id, options, (l) => this.client.resume(l.ref, { signal: options?.signal }));
  }

  async suspend(uuid: string, options?: CallOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'suspend', ['uuid']);
    await this.act('suspend', 'suspend', id, options, (l) => this.client.managedSave(l.ref, 0, { signal: options?.signal, timeoutMs: Math.max(this.config.callTimeoutMs, 300_000) }));
  }

  async resume(uuid: string, options?: CallOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'resume', ['uuid']);
    // Starting the defined domain restores its managed save image (a fresh create would lose it).
    await this.act('resume', 'resume', id, options, async (l) => {
      await this.client.create(l.ref, 0, { signal: options?.signal, timeoutMs: Math.max(this.config.callTimeoutMs, 300_000) });
    });
  }

  async rescue(uuid: string, spec: RescueSpec, options?: CallOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'rescue', ['uuid']).toLowerCase();
    const s = parseArg(RescueSpecSchema, spec ?? {}, 'rescue', ['spec']);
    if (this.files && s.image && !(await this.imageExists(s.image.id))) {
      throw errors.invalidInput([{ path: ['spec', 'image', 'id'], message: `no image ${s.image.id} in ${this.config.imageDir}` }], 'rescue');
    }
    await this.act('rescue', 'rescue', id, options, async (l) => {
      const r = l.record;
      const env = this.env(id);
      await this.hardStop(l.ref);
      r.mode = 'rescue';
      r.rescueImage = s.image ? imageRecord(s.image) : r.image;
      if (this.files) await files.copyImage(files.inside(this.config.imageDir, r.rescueImage.id), rescueDiskPath(env));
      await this.client.defineXml(buildDomainXml(r, env));
      await this.client.create(l.ref, 0, { signal: options?.signal });
    });
  }

  async unrescue(uuid: string, options?: CallOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'unrescue', ['uuid']).toLowerCase();
    await this.act('unrescue', 'unrescue', id, options, async (l) => {
      const r = l.record;
      const env = this.env(id);
      await this.hardStop(l.ref);
      r.mode = 'normal';
      delete r.rescueImage;
      await this.client.defineXml(buildDomainXml(r, env));
      if (this.files) await files.removeFile(rescueDiskPath(env));
      await this.client.create(l.ref, 0, { signal: options?.signal });
    });
  }

  async rebuild(uuid: string, spec: RebuildSpec, options?: CallOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'rebuild', ['uuid']).toLowerCase();
    const s = parseArg(RebuildSpecSchema, spec, 'rebuild', ['spec']);
    if (this.files && !(await this.imageExists(s.image.id))) {
      throw errors.invalidInput([{ path: ['spec', 'image', 'id'], message: `no image ${s.image.id} in ${this.config.imageDir}` }], 'rebuild');
    }
    const metadata = s.metadata !== undefined ? ownMetadata((spec as { metadata?: unknown }).metadata) : undefined;
    await this.act('rebuild', 'rebuild', id, options, async (l) => {
      const r = l.record;
      const env = this.env(id);
      await this.hardStop(l.ref);
      r.image = imageRecord(s.image);
      if (metadata !== undefined) r.metadata = metadata;
      if (this.files) {
        await files.copyImage(files.inside(this.config.imageDir, s.image.id), rootDiskPath(env));
        if (!s.preserveEphemeral) {
          let i = 0;
          for (const d of r.localDisks) await files.sparseFile(localDiskPath(env, d.kind, i++), d.sizeMb);
        }
      }
      await this.client.defineXml(buildDomainXml(r, env));
      await this.client.create(l.ref, 0, { signal: options?.signal });
    });
  }

  // ---- images -----------------------------------------------------------------------

  async snapshot(uuid: string, spec: SnapshotSpec, options?: CallOptions): Promise<SnapshotResult> {
    const id = parseArg(UuidSchema, uuid, 'snapshot', ['uuid']).toLowerCase();
    const s = parseArg(SnapshotSpecSchema, spec, 'snapshot', ['spec']);
    const imageId = `snapshot-${randomUUID()}`;
    let result: SnapshotResult | undefined;
    await this.act('snapshot', 'snapshot', id, options, async (l) => {
      const r = l.record;
      if (this.files) {
        // Cold-consistent copy: pause the vCPUs around the copy of a running guest.
        const running = l.state === DomainState.RUNNING || l.state === DomainState.BLOCKED;
        if (running) await this.client.suspend(l.ref);
        try {
          await files.copyImage(rootDiskPath(this.env(id)), files.inside(this.config.imageDir, imageId));
        } finally {
          if (running) await this.client.resume(l.ref);
        }
        const size = await files.fileSize(files.inside(this.config.imageDir, imageId));
        result = { imageId, name: s.name, diskFormat: r.image.diskFormat as SnapshotResult['diskFormat'], containerFormat: 'bare', ...(size !== undefined ? { sizeBytes: size } : {}) };
      } else {
        await this.client.snapshotCreateXml(l.ref, `<domainsnapshot><name>${imageId}</name></domainsnapshot>`, 0, { signal: options?.signal });
        result = { imageId, name: s.name, diskFormat: r.image.diskFormat as SnapshotResult['diskFormat'], containerFormat: 'bare' };
      }
    });
    return result!;
  }

  async deleteSnapshot(imageId: string, options?: CallOptions): Promise<void> {
    const id = parseArg(IdentifierSchema, imageId, 'deleteSnapshot', ['imageId']);
    await this.ready('deleteSnapshot', options);
    if (!/^snapshot-[0-9a-f-]{36}$/.test(id)) return; // not one this driver made: nothing to remove
    try {
      if (this.files) {
        await files.removeFile(files.inside(this.config.imageDir, id));
        return;
      }
      for (const r of await this.listOwned(options)) {
        const ref = this.ref(r.uuid);
        try {
          const snap = await this.client.snapshotLookupByName(ref, id);
          await this.client.snapshotDelete(snap, 0);
          return;
        } catch (err) {
          if (!isLibvirtCode(err, VirErr.NO_DOMAIN_SNAPSHOT, VirErr.NO_DOMAIN)) throw err;
        }
      }
    } catch (err) {
      throw toContractError(err, 'deleteSnapshot', id);
    }
  }

  // ---- devices ----------------------------------------------------------------------

  async attachVolume(uuid: string, attachment: VolumeAttachment, options?: CallOptions): Promise<void> {
    const op = 'attachVolume';
    this.requireHotplug(op, 'operation.attach-volume');
    const id = parseArg(UuidSchema, uuid, op, ['uuid']).toLowerCase();
    const a = parseArg(VolumeAttachmentSchema, attachment, op, ['attachment']);
    const ci = a.connectionInfo;
    if (ci.driverVolumeType !== 'file' && ci.driverVolumeType !== 'block') {
      throw errors.invalidInput([{ path: ['attachment', 'connectionInfo', 'driverVolumeType'], message: `transport ${ci.driverVolumeType} is not supported by this driver` }], op);
    }
    const volumeId = a.volumeId.toLowerCase();
    await this.act(op, op, id, options, async (l) => {
      const r = l.record;
      const bus = a.diskBus ?? r.image.diskBus;
      const used = new Set([...l.domain.disks.map((d) => d.target), ...r.volumes.map((v) => v.target), ...r.localDisks.map((d) => d.target)]);
      const v: VolumeRecord = {
        id: volumeId,
        target: nextTarget(bus, used),
        bus,
        source: ci.driverVolumeType === 'block' ? 'block' : 'file',
        path: ci.driverVolumeType === 'block' ? ci.devicePath : ci.path,
        ...(a.sizeGb !== undefined ? { sizeGb: a.sizeGb } : {}),
        ...(a.deviceName !== undefined ? { deviceName: a.deviceName } : {}),
        deleteOnTermination: a.deleteOnTermination,
      };
      await this.client.attachDevice(l.ref, volumeDiskXml(v), this.deviceFlags(l));
      r.volumes.push(v);
      await this.saveRecord(l, r);
    }, (l) => ({ volumeAttached: this.volumeAttached(l, volumeId) }));
  }

  async detachVolume(uuid: string, volumeId: string, options?: CallOptions): Promise<void> {
    const op = 'detachVolume';
    this.requireHotplug(op, 'operation.detach-volume');
    const id = parseArg(UuidSchema, uuid, op, ['uuid']).toLowerCase();
    const vid = parseArg(UuidSchema, volumeId, op, ['volumeId']).toLowerCase();
    await this.act(op, op, id, options, async (l) => {
      const r = l.record;
      const v = r.volumes.find((x) => x.id === vid);
      if (v) {
        const xml = volumeDiskXml(v);
        await this.detachAndWait(l, xml, (d) => d.disks.some((x) => x.serial?.toLowerCase() === vid), options);
      }
      r.volumes = r.volumes.filter((x) => x.id !== vid);
      await this.saveRecord(l, r);
    }, (l) => ({ volumeAttached: this.volumeAttached(l, vid) }));
  }

  async attachInterface(uuid: string, vif: Vif, options?: CallOptions): Promise<void> {
    const op = 'attachInterface';
    this.requireHotplug(op, 'operation.attach-interface');
    const id = parseArg(UuidSchema, uuid, op, ['uuid']).toLowerCase();
    const v = parseArg(VifSchema, vif, op, ['vif']);
    const vifId = v.id.toLowerCase();
    await this.act(op, op, id, options, async (l) => {
      const r = l.record;
      const n = { id: vifId, mac: v.address.toLowerCase(), model: r.image.vifModel, address: v.address };
      await this.client.attachDevice(l.ref, interfaceXml(n), this.deviceFlags(l));
      r.interfaces.push(n);
      await this.saveRecord(l, r);
    }, (l) => ({ interfaceAttached: this.interfaceAttached(l, vifId) }));
  }

  async detachInterface(uuid: string, vifId: string, options?: CallOptions): Promise<void> {
    const op = 'detachInterface';
    this.requireHotplug(op, 'operation.detach-interface');
    const id = parseArg(UuidSchema, uuid, op, ['uuid']).toLowerCase();
    const nid = parseArg(UuidSchema, vifId, op, ['vifId']).toLowerCase();
    await this.act(op, op, id, options, async (l) => {
      const r = l.record;
      const n = r.interfaces.find((x) => x.id === nid);
      if (n) await this.detachAndWait(l, interfaceXml(n), (d) => d.interfaces.some((x) => x.mac === n.mac), options);
      r.interfaces = r.interfaces.filter((x) => x.id !== nid);
      await this.saveRecord(l, r);
    }, (l) => ({ interfaceAttached: this.interfaceAttached(l, nid) }));
  }

  async extendVolume(): Promise<void> {
    throw errors.unsupported('operation.extend-volume', 'extendVolume');
  }

  async getConsoleOutput(uuid: string, options?: CallOptions): Promise<ConsoleOutput> {
    const op = 'getConsoleOutput';
    if (!this.files) throw errors.unsupported('console.serial.log', op);
    const id = parseArg(UuidSchema, uuid, op, ['uuid']).toLowerCase();
    await this.ready(op, options);
    await this.decide(op, op, id, options);
    const { text, truncated } = await files.readTail(consoleLogPath(this.env(id)), CONSOLE_TAIL_BYTES);
    return { output: text, truncated };
  }

  // ---- events -----------------------------------------------------------------------

  subscribeEvents(listener: LifecycleListener): Unsubscribe {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private onLifecycle(m: LifecycleMessage): void {
    const mapped = mapLifecycleEvent(m.event, m.detail);
    if (!mapped || this.listeners.size === 0) return;
    const uuid = bytesToUuid(m.dom.uuid);
    if (m.dom.name !== domainName(this.config.namePrefix, uuid)) return;
    const timestamp = new Date().toISOString();
    // Serialised so events keep their order even when ownership has to be checked first.
    this.eventChain = this.eventChain.then(async () => {
      if (!this.owned.has(uuid)) {
        const r = await this.client.getMetadata(m.dom, METADATA_NS).catch(() => undefined);
        const rec = r === undefined ? undefined : parseInstanceMetadata(r, uuid);
        if (!rec || rec.ownerPrefix !== this.config.namePrefix) return;
        this.owned.add(uuid);
      }
      const event: LifecycleEvent = { uuid, kind: mapped.kind, powerState: mapped.powerState, node: this.nodeName, timestamp };
      for (const l of [...this.listeners]) {
        try {
          l(event);
        } catch {
          /* a listener's failure is its own */
        }
      }
    });
  }

  // ---- internals --------------------------------------------------------------------

  private checkAborted(options: CallOptions | undefined, op: string): void {
    if (options?.signal?.aborted) throw new DriverError('CANCELLED', { op, detail: 'the signal was aborted before the call changed anything' });
  }

  private requireHotplug(op: string, capability: CapabilityId): void {
    if (!this.files) throw errors.unsupported(capability, op);
  }

  private async imageExists(id: string): Promise<boolean> {
    return files.isSafeFileName(id) && (await files.exists(files.inside(this.config.imageDir, id)));
  }

  /** Connect if needed, and after a reconnect sweep half-spawned leftovers before anything else. */
  private async ready(op: string, options?: CallOptions): Promise<void> {
    this.checkAborted(options, op);
    try {
      await this.client.connect();
    } catch (err) {
      throw toContractError(err, op);
    }
    if (this.sweepNeeded) {
      this.sweeping ??= this.sweep().finally(() => {
        this.sweeping = undefined;
      });
      try {
        await this.sweeping;
      } catch (err) {
        throw toContractError(err, op);
      }
    }
  }

  /**
   * Remove domains left in phase `spawning`: those of this session not being spawned now, and
   * those of other sessions older than staleSpawnMs (their driver died mid-spawn).
   */
  private async sweep(): Promise<void> {
    this.sweepNeeded = false;
    try {
      const doms = await this.client.listAllDomains(0);
      for (const d of doms) {
        if (!d.name.startsWith(this.config.namePrefix)) continue;
        const uuid = bytesToUuid(d.uuid);
        if (d.name !== domainName(this.config.namePrefix, uuid) || this.inFlight.has(uuid)) continue;
        const meta = await this.client.getMetadata(d, METADATA_NS).catch(() => undefined);
        const r = meta === undefined ? undefined : parseInstanceMetadata(meta, uuid);
        if (!r || r.ownerPrefix !== this.config.namePrefix || r.phase !== 'spawning') continue;
        const age = Date.now() - Date.parse(r.since);
        if (r.session === this.session || !(age < this.config.staleSpawnMs)) await this.removeDomain(d, uuid);
      }
    } catch (err) {
      this.sweepNeeded = true;
      throw err;
    }
  }

  /** Owned, fully spawned instances (one metadata read per domain with our name pattern). */
  private async listOwned(options?: CallOptions): Promise<InstanceRecord[]> {
    const doms = await this.client.listAllDomains(0, { signal: options?.signal });
    const mine = doms.filter((d) => d.name.startsWith(this.config.namePrefix) && d.name === domainName(this.config.namePrefix, bytesToUuid(d.uuid)));
    const records = await Promise.all(
      mine.map(async (d) => {
        const uuid = bytesToUuid(d.uuid);
        try {
          const r = parseInstanceMetadata(await this.client.getMetadata(d, METADATA_NS, 0, { signal: options?.signal }), uuid);
          return r && r.ownerPrefix === this.config.namePrefix && r.phase === 'ready' ? r : undefined;
        } catch (err) {
          if (isLibvirtCode(err, VirErr.NO_DOMAIN, VirErr.NO_DOMAIN_METADATA)) return undefined;
          throw err;
        }
      }),
    );
    const out = records.filter((r): r is InstanceRecord => r !== undefined);
    for (const r of out) this.owned.add(r.uuid);
    return out;
  }

  /**
   * Whether a domain with this uuid exists (ours or someone else's). A domain holding our
   * name with another uuid makes DEFINE fail with DOM_EXIST/OPERATION_FAILED instead.
   */
  private async probe(uuid: string, options?: CallOptions): Promise<'absent' | 'present'> {
    try {
      await this.client.lookupByUuid(uuid, { signal: options?.signal });
      return 'present';
    } catch (err) {
      if (isLibvirtCode(err, VirErr.NO_DOMAIN)) return 'absent';
      throw err;
    }
  }

  /** Read state + live XML; undefined when absent or not ours. */
  private async load(uuid: string, options?: CallOptions): Promise<Loaded | undefined> {
    const ref = this.ref(uuid);
    let st: { state: number; reason: number };
    let xml: string;
    try {
      [st, xml] = await Promise.all([this.client.getState(ref, { signal: options?.signal }), this.client.getXmlDesc(ref, 0, { signal: options?.signal })]);
    } catch (err) {
      if (isLibvirtCode(err, VirErr.NO_DOMAIN)) return undefined;
      throw err;
    }
    const domain = parseDomainXml(xml);
    const r = domain.record;
    if (!r || domain.name !== ref.name || r.ownerPrefix !== this.config.namePrefix) return undefined;
    if (r.phase === 'spawning' && !this.inFlight.has(uuid)) return undefined;
    const managedSave = st.state === DomainState.SHUTOFF ? await this.client.hasManagedSaveImage(ref, { signal: options?.signal }) : false;
    this.owned.add(uuid);
    return { ref, state: st.state, reason: st.reason, managedSave, domain, record: r, semantic: semanticStateOf(powerStateOf(st.state, managedSave), r.mode) };
  }

  /** Load and apply the semantics table; throws the table's error, returns the outcome. */
  private async decide(
    op: string,
    tableOp: TableOperation,
    uuid: string,
    options: CallOptions | undefined,
    ctx?: (l: Loaded) => OutcomeContext,
  ): Promise<{ loaded: Loaded | undefined; noop: boolean }> {
    let loaded: Loaded | undefined;
    try {
      loaded = await this.load(uuid.toLowerCase(), options);
    } catch (err) {
      throw toContractError(err, op, uuid);
    }
    const state: SemanticState = loaded ? loaded.semantic : 'ABSENT';
    const outcome = expectedOutcome(state, tableOp, loaded && ctx ? ctx(loaded) : {});
    if (!outcome.ok) {
      switch (outcome.error) {
        case 'INSTANCE_NOT_FOUND':
          throw errors.notFound(uuid, op);
        case 'INVALID_STATE':
          throw errors.invalidState(uuid, state === 'RESCUE' ? 'RESCUE' : (state as Exclude<SemanticState, 'ABSENT' | 'RESCUE'>), op);
        default:
          throw new DriverError(outcome.error, { op, target: uuid });
      }
    }
    return { loaded, noop: outcome.noop };
  }

  /** The common shape of an instance operation: validate, ready, decide, act unless a no-op. */
  private async act(
    op: string,
    tableOp: TableOperation,
    uuid: string,
    options: CallOptions | undefined,
    action: (l: Loaded) => Promise<void>,
    ctx?: (l: Loaded) => OutcomeContext,
  ): Promise<void> {
    const id = uuid.toLowerCase();
    await this.ready(op, options);
    const { loaded, noop } = await this.decide(op, tableOp, id, options, ctx);
    if (noop || !loaded) return;
    this.checkAborted(options, op);
    try {
      await action(loaded);
    } catch (err) {
      throw toContractError(err, op, id);
    }
  }

  private info(l: Loaded): InstanceInfo {
    const r = l.record;
    const liveSerials = new Set(l.domain.disks.map((d) => d.serial?.toLowerCase()).filter((s): s is string => s !== undefined));
    const liveMacs = new Set(l.domain.interfaces.map((i) => i.mac));
    const volumes = r.volumes
      .filter((v) => liveSerials.has(v.id))
      .map((v) => ({ volumeId: v.id, ...(v.deviceName !== undefined ? { deviceName: v.deviceName } : {}), ...(v.sizeGb !== undefined ? { sizeGb: v.sizeGb } : {}) }))
      .sort((a, b) => (a.volumeId < b.volumeId ? -1 : a.volumeId > b.volumeId ? 1 : 0));
    const interfaces = r.interfaces
      .filter((n) => liveMacs.has(n.mac))
      .map((n) => ({ id: n.id, address: n.address ?? n.mac }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return {
      uuid: r.uuid,
      name: r.name,
      powerState: powerStateOf(l.state, l.managedSave),
      mode: l.semantic === 'RESCUE' ? 'rescue' : 'normal',
      node: this.nodeName,
      metadata: { ...r.metadata },
      volumes,
      interfaces,
    };
  }

  private volumeAttached(l: Loaded, volumeId: string): boolean {
    return l.record.volumes.some((v) => v.id === volumeId) && l.domain.disks.some((d) => d.serial?.toLowerCase() === volumeId);
  }

  private interfaceAttached(l: Loaded, vifId: string): boolean {
    const n = l.record.interfaces.find((x) => x.id === vifId);
    return n !== undefined && l.domain.interfaces.some((i) => i.mac === n.mac);
  }

  private deviceFlags(l: Loaded): number {
    return isActive(l.state) ? Flags.AFFECT_LIVE | Flags.AFFECT_CONFIG : Flags.AFFECT_CONFIG;
  }

  private async saveRecord(l: Loaded, r: InstanceRecord): Promise<void> {
    const st = await this.client.getState(l.ref);
    await this.client.setMetadata(l.ref, buildInstanceMetadata(r, '', true), METADATA_KEY, METADATA_NS, isActive(st.state) ? Flags.AFFECT_LIVE | Flags.AFFECT_CONFIG : Flags.AFFECT_CONFIG);
  }

  /**
   * Detach and wait until the device is gone from the live XML, re-asking like Nova does: a
   * live detach only asks the guest, which may take a while or ignore it.
   */
  private async detachAndWait(l: Loaded, xml: string, present: (d: ParsedDomain) => boolean, options?: CallOptions): Promise<void> {
    const flags = this.deviceFlags(l);
    const started = Date.now();
    let lastAsk = 0;
    for (;;) {
      const d = parseDomainXml(await this.client.getXmlDesc(l.ref, 0));
      const inactive = parseDomainXml(await this.client.getXmlDesc(l.ref, Flags.DOMAIN_XML_INACTIVE));
      if (!present(d) && !present(inactive)) return;
      if (Date.now() - started > DETACH_WAIT_MS) {
        throw new DriverError('TIMEOUT', { op: 'detach', target: l.record.uuid, detail: 'the guest did not release the device' });
      }
      if (Date.now() - lastAsk > 5_000) {
        lastAsk = Date.now();
        const f = present(d) ? flags : Flags.AFFECT_CONFIG;
        try {
          await this.client.detachDevice(l.ref, xml, present(inactive) ? f : f & ~Flags.AFFECT_CONFIG);
        } catch (err) {
          // Already being removed, or gone from one of the two definitions.
          if (!isLibvirtCode(err, VirErr.OPERATION_FAILED, VirErr.DEVICE_MISSING, VirErr.OPERATION_INVALID, VirErr.INVALID_ARG)) throw err;
        }
      }
      await sleep(POLL_MS, options?.signal);
    }
  }

  /** ACPI shutdown and wait until off; false when the guest did not power off in time. */
  private async acpiShutdown(ref: DomainRef, timeoutMs: number, options?: CallOptions): Promise<boolean> {
    try {
      await this.client.shutdown(ref, 0, { signal: options?.signal });
    } catch (err) {
      if (err instanceof LibvirtError && !isLibvirtCode(err, VirErr.NO_DOMAIN)) return false;
      throw err;
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = await this.client.getState(ref, { signal: options?.signal });
      if (!isActive(st.state)) return true;
      if (Date.now() >= deadline) return false;
      await sleep(POLL_MS, options?.signal);
    }
  }

  /** Force off; fine when already off. */
  private async hardStop(ref: DomainRef): Promise<void> {
    try {
      await this.client.destroy(ref);
    } catch (err) {
      const st = await this.client.getState(ref);
      if (isActive(st.state)) throw err;
    }
  }

  /** Stop and undefine (with managed save and snapshot metadata), then remove host files. */
  private async removeDomain(ref: DomainRef, uuid: string, knownState?: number): Promise<void> {
    const st =
      knownState !== undefined
        ? { state: knownState }
        : await this.client.getState(ref).catch((err) => {
            if (isLibvirtCode(err, VirErr.NO_DOMAIN)) return undefined;
            throw err;
          });
    if (st && isActive(st.state)) await this.hardStop(ref);
    if (st) {
      try {
        await this.client.undefine(ref, Flags.UNDEFINE_MANAGED_SAVE | Flags.UNDEFINE_SNAPSHOTS_METADATA);
      } catch (err) {
        if (!isLibvirtCode(err, VirErr.NO_DOMAIN)) throw err;
      }
    }
    this.owned.delete(uuid);
    if (this.files) {
      // Volumes (even deleteOnTermination ones) belong to the volume service, never removed here.
      await files.removeTree(this.env(uuid).instanceDir);
    }
  }

  private recordFromSpec(s: InstanceSpec, uuid: string, metadata: Record<string, string>): InstanceRecord {
    const image = imageRecord(s.image);
    const used = new Set<string>([`${BUS_PREFIX[image.diskBus] ?? 'vd'}a`]);
    const localDisks: InstanceRecord['localDisks'] = [];
    for (const e of s.blockDeviceInfo.ephemerals) {
      const bus = e.diskBus ?? image.diskBus;
      const target = nextTarget(bus, used);
      used.add(target);
      localDisks.push({ kind: 'ephemeral', target, bus, sizeMb: e.sizeGb * 1024 });
    }
    if (s.blockDeviceInfo.swap) {
      const target = nextTarget(image.diskBus, used);
      used.add(target);
      localDisks.push({ kind: 'swap', target, bus: image.diskBus, sizeMb: s.blockDeviceInfo.swap.sizeMb });
    }
    const volumes: VolumeRecord[] = s.blockDeviceInfo.volumes.map((v) => {
      const bus = v.diskBus ?? image.diskBus;
      const target = nextTarget(bus, used);
      used.add(target);
      const ci = v.connectionInfo;
      return {
        id: v.volumeId.toLowerCase(),
        target,
        bus,
        source: ci.driverVolumeType === 'block' ? 'block' : 'file',
        path: ci.driverVolumeType === 'block' ? ci.devicePath : ci.driverVolumeType === 'file' ? ci.path : '',
        ...(v.sizeGb !== undefined ? { sizeGb: v.sizeGb } : {}),
        ...(v.deviceName !== undefined ? { deviceName: v.deviceName } : {}),
        deleteOnTermination: v.deleteOnTermination,
      };
    });
    return {
      uuid,
      ownerPrefix: this.config.namePrefix,
      phase: 'spawning',
      session: this.session,
      since: new Date().toISOString(),
      mode: 'normal',
      name: s.name,
      flavor: s.flavor,
      image,
      metadata,
      localDisks,
      volumes,
      interfaces: s.networkInfo.map((v) => ({ id: v.id.toLowerCase(), mac: v.address.toLowerCase(), model: image.vifModel, address: v.address })),
    };
  }

  private async makeDisks(r: InstanceRecord, env: DomainEnvironment, s: InstanceSpec): Promise<void> {
    await files.ensureDir(env.instanceDir);
    await files.copyImage(files.inside(this.config.imageDir, s.image.id), rootDiskPath(env));
    let i = 0;
    for (const d of r.localDisks) await files.sparseFile(localDiskPath(env, d.kind, i++), d.sizeMb);
    await files.touch(consoleLogPath(env));
  }
}

/** Create an unconnected libvirt driver; call initHost before anything else. */
export function createLibvirtDriver(config: LibvirtDriverConfigInput = {}, hooks: LibvirtDriverTestHooks = {}): LibvirtComputeDriver {
  return new LibvirtComputeDriver(config, hooks);
}
