import { randomBytes } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import {
  DriverError,
  IdentifierSchema,
  InstanceSpecSchema,
  KeyedQueue,
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
  type ComputeDriver,
  type DriverCapabilities,
  type HostInventory,
  type InputIssue,
  type InstanceInfo,
  type InstanceSpec,
  type InstanceSummary,
  type LifecycleListener,
  type NodeInfo,
  type PowerOffOptions,
  type PowerState,
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
  type ConsoleOutput,
} from '@nova-common/core';
import type { z } from 'zod';
import { EngineClient } from './client/engine-client.js';
import { EngineHttpError } from './client/errors.js';
import type { ContainerInspect, ContainerSummary, EndpointSettings } from './client/types.js';
import { ContainerDriverConfigSchema, type ContainerDriverConfig, type ContainerDriverConfigInput } from './config.js';
import { assertSafe, buildContainerConfig, pidsLimitOf } from './mapping/container-config.js';
import { demultiplex, tailOutput } from './mapping/console.js';
import { isConflict, isNotFound, isUnavailable, toContractError } from './mapping/errors.js';
import { imageAllowed, imageReferenceFor, isValidImageReference } from './mapping/images.js';
import {
  containerName,
  isOwned,
  labelKeys,
  networkLabels,
  ownerFilter,
  phaseOfName,
  readInstanceLabels,
  type InstanceLabels,
  type Naming,
  type StoredVolume,
} from './mapping/labels.js';
import { mountedTargets, resolveVolume, volumeTarget } from './mapping/mounts.js';
import { baseNetworkName, endpointFor, networkName, vifOfEndpoint } from './mapping/networks.js';
import { differencesOf, engineKindOf, isNetworkInUse, labelChanges, type EngineDifferences } from './mapping/engine-kind.js';
import { powerStateOf } from './mapping/state.js';
import { EventStream } from './events.js';

/** Hooks for fault tests: called between the steps of a spawn. Not part of the configuration. */
export interface ContainerDriverHooks {
  /** After the container is created, before its networks are connected and it is started. */
  afterCreate?: (containerId: string, uuid: string) => Promise<void> | void;
}

/** Capability notes, shown in the support matrix. */
export const CAPABILITY_NOTES = {
  attachVolume:
    'Engines cannot add a mount to an existing container: the driver stops it, commits its writable layer, recreates it with the new mount from that commit and brings it back to its power state. The root filesystem is kept; running processes restart (like a reboot).',
  detachVolume: 'Same as attach: the container is recreated without the mount from a commit of its writable layer; processes restart.',
  attachInterface:
    "Hot-added through network connect on internal networks. Engines before API 1.44 (dockerd 20.10) assign the endpoint's MAC themselves: the VIF's address is recorded on the endpoint and reported, but the guest sees the engine's MAC.",
  attachInterfacePodman:
    "Hot-added through network connect on internal networks; podman assigns the endpoint's MAC itself (the VIF's address is recorded on the endpoint and reported). podman cannot change a paused container's networks: the driver unpauses it for the change and pauses it again, so a paused guest runs for a moment (RESUMED and PAUSED events).",
  detachInterfacePodman:
    "podman cannot change a paused container's networks: the driver unpauses it for the disconnect and pauses it again, so a paused guest runs for a moment (RESUMED and PAUSED events).",
} as const;

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

interface Located {
  inspect: ContainerInspect;
  labels: InstanceLabels;
  state: SemanticState;
  power: PowerState;
}

function issuesOf(error: z.ZodError, prefix: (string | number)[]): InputIssue[] {
  return error.issues.map((i) => ({ path: [...prefix, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: i.message }));
}

function parseArg<S extends z.ZodType>(schema: S, value: unknown, op: string, prefix: (string | number)[]): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw errors.invalidInput(issuesOf(r.error, prefix), op);
  return r.data;
}

function checkAborted(signal: AbortSignal | undefined, op: string): void {
  if (signal?.aborted) throw new DriverError('CANCELLED', { op, detail: 'aborted before the call changed anything' });
}

/**
 * The container compute driver. An instance is one container named `<prefix>-<uuid>`,
 * labelled as owned; its power state is the container's state; its VIFs are endpoints on
 * internal engine networks; its volumes are bind mounts and device mappings from the
 * allowlisted root. Every answer is read from the engine; the driver keeps no instance
 * state of its own besides in-flight spawns and cleanups it still owes.
 */
export class ContainerComputeDriver implements ComputeDriver {
  readonly config: ContainerDriverConfig;
  private client: EngineClient;
  private clientClosed = false;
  private readonly naming: Naming;
  private readonly keys;
  /**
   * Per-instance locks (the driver is safe without the guard too) and one for the network table
   * ('\0networks'): core's KeyedQueue.
   */
  private readonly locks = new KeyedQueue();
  /** Uuids (lower-case) with a spawn or a replacement in flight in this process. */
  private readonly inFlight = new Set<string>();
  /** Containers a failed spawn left and that could not be removed yet (engine away): id -> uuid. */
  private readonly pendingCleanup = new Map<string, string>();
  private cleanupTimer: ReturnType<typeof setInterval> | undefined;
  private events: EventStream | undefined;
  private node = 'localhost';
  private hostCpus = 1;
  private memTotalMb = 1;
  private diskTotalGb = 0;
  private baseNetwork: string;
  /** What the connected engine does differently (dockerd until initHost learns otherwise). */
  private differences: EngineDifferences = differencesOf('docker');

  constructor(
    config: ContainerDriverConfigInput = {},
    private readonly hooks: ContainerDriverHooks = {},
  ) {
    const parsed = ContainerDriverConfigSchema.safeParse(config);
    if (!parsed.success) throw errors.invalidInput(issuesOf(parsed.error, ['config']), 'createContainerDriver');
    this.config = parsed.data;
    this.naming = { namePrefix: this.config.namePrefix, labelPrefix: this.config.labelPrefix, ownerId: this.config.ownerId };
    this.keys = labelKeys(this.naming);
    this.baseNetwork = baseNetworkName(this.naming);
    this.client = new EngineClient({ socketPath: this.config.socketPath, apiVersion: this.config.apiVersion });
  }

  /** The engine client, for tests and the benchmark. */
  get engine(): EngineClient {
    return this.client;
  }

  // ---- host -------------------------------------------------------------------------

  async initHost(options?: CallOptions): Promise<void> {
    const signal = options?.signal;
    checkAborted(signal, 'initHost');
    if (this.clientClosed) {
      // initHost after cleanupHost: connect again.
      this.client = new EngineClient({ socketPath: this.config.socketPath, apiVersion: this.config.apiVersion });
      this.clientClosed = false;
    }
    try {
      const version = await this.client.negotiate(signal);
      this.differences = differencesOf(engineKindOf(version));
      const info = await this.client.info(signal);
      this.node = this.config.nodeName ?? (info.Name || 'localhost');
      this.hostCpus = Math.max(1, info.NCPU);
      this.memTotalMb = Math.max(1, Math.floor(info.MemTotal / MIB));
      this.diskTotalGb = await statfs(info.DockerRootDir)
        .then((s) => Math.floor((Number(s.blocks) * Number(s.bsize)) / GIB))
        .catch(() => 0);
      await this.ensureNetwork(this.baseNetwork, '__base__', signal);
      await this.sweep(this.config.spawnSweepAgeSeconds, signal);
    } catch (err) {
      throw toContractError(err, 'initHost');
    }
  }

  async cleanupHost(options?: CallOptions): Promise<void> {
    checkAborted(options?.signal, 'cleanupHost');
    this.events?.close();
    this.events = undefined;
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    this.cleanupTimer = undefined;
    // One last try at what a failed spawn left behind.
    await this.flushCleanup().catch(() => undefined);
    this.clientClosed = true;
    await this.client.close();
  }

  async getCapabilities(options?: CallOptions): Promise<DriverCapabilities> {
    checkAborted(options?.signal, 'getCapabilities');
    const macHonoured = this.client.supports('1.44');
    const podman = this.differences.kind === 'podman';
    return declareCapabilities({
      supported: [
        'operation.launch',
        'operation.terminate',
        'operation.get-guest-info',
        'storage.image',
        'operation.power-on-off',
        'operation.reboot',
        'operation.pause',
        'operation.unpause',
        'operation.attach-volume',
        'operation.detach-volume',
        'operation.attach-interface',
        'operation.detach-interface',
        'operation.snapshot',
        'operation.rebuild',
        'console.serial.log',
        'event.lifecycle',
      ],
      partial: {
        'operation.attach-volume': CAPABILITY_NOTES.attachVolume,
        'operation.detach-volume': CAPABILITY_NOTES.detachVolume,
        ...(podman
          ? { 'operation.attach-interface': CAPABILITY_NOTES.attachInterfacePodman, 'operation.detach-interface': CAPABILITY_NOTES.detachInterfacePodman }
          : macHonoured
            ? {}
            : { 'operation.attach-interface': CAPABILITY_NOTES.attachInterface }),
      },
      volumeTransports: ['file', 'block'],
      eventualConsistency: { resourceReleaseMs: 0, eventDeliveryMs: 3000, nodeAvailableMs: 0 },
    });
  }

  async listNodes(options?: CallOptions): Promise<NodeInfo[]> {
    checkAborted(options?.signal, 'listNodes');
    return [{ id: this.node, available: true }];
  }

  async getInventory(options?: CallOptions): Promise<HostInventory> {
    const signal = options?.signal;
    checkAborted(signal, 'getInventory');
    try {
      const used = await this.usedResources(signal);
      const rec = (total: number, ratio: number, u: number) => ({
        total,
        reserved: 0,
        used: u,
        minUnit: 1,
        maxUnit: Math.max(1, total),
        stepSize: 1,
        allocationRatio: ratio,
      });
      return {
        nodes: [
          {
            node: this.node,
            resources: {
              VCPU: rec(this.hostCpus, this.config.cpuAllocationRatio, used.VCPU ?? 0),
              MEMORY_MB: rec(this.memTotalMb, this.config.ramAllocationRatio, used.MEMORY_MB ?? 0),
              DISK_GB: rec(this.diskTotalGb, this.config.diskAllocationRatio, used.DISK_GB ?? 0),
            },
            traits: ['COMPUTE_NODE'],
          },
        ],
      };
    } catch (err) {
      throw toContractError(err, 'getInventory');
    }
  }

  // ---- instances --------------------------------------------------------------------

  async listInstances(options?: CallOptions): Promise<InstanceSummary[]> {
    const signal = options?.signal;
    checkAborted(signal, 'listInstances');
    try {
      await this.flushCleanup(signal);
      const out: InstanceSummary[] = [];
      for (const c of await this.ownedContainers(signal)) {
        const phase = phaseOfName(this.naming, c.Names[0] ?? '');
        const labels = readInstanceLabels(this.naming, c.Labels);
        if (phase?.phase !== 'instance' || !labels) continue;
        out.push({ uuid: labels.uuid, name: labels.name, node: labels.node, metadata: labels.metadata });
      }
      return out;
    } catch (err) {
      throw toContractError(err, 'listInstances');
    }
  }

  async getInfo(uuid: string, options?: CallOptions): Promise<InstanceInfo> {
    const id = parseArg(UuidSchema, uuid, 'getInfo', ['uuid']);
    checkAborted(options?.signal, 'getInfo');
    try {
      const found = await this.locate(id, options?.signal);
      if (!found) throw errors.notFound(id, 'getInfo');
      return this.infoOf(found);
    } catch (err) {
      throw toContractError(err, 'getInfo', id);
    }
  }

  async spawn(spec: InstanceSpec, options?: CallOptions): Promise<void> {
    const s = parseArg(InstanceSpecSchema, spec, 'spawn', ['spec']);
    const signal = options?.signal;
    checkAborted(signal, 'spawn');
    // From the caller's object: the parser drops keys such as `__proto__`.
    const metadata = Object.fromEntries(Object.entries((spec as Partial<InstanceSpec>).metadata ?? {}));
    const key = s.uuid.toLowerCase();
    return this.locks.run(key, async () => {
      try {
        await this.flushCleanup(signal);
        if (this.inFlight.has(key)) throw errors.exists(s.uuid, 'spawn');
        const existing = await this.locate(s.uuid, signal);
        if (existing) throw errors.exists(s.uuid, 'spawn');
        if (s.node !== undefined && s.node !== this.node) throw new DriverError('NODE_NOT_FOUND', { op: 'spawn', target: s.node });
        const imageRef = await this.resolveImage(s.image.id, ['spec', 'image', 'id'], 'spawn', signal);
        const pidsLimit = pidsLimitOf(s.flavor, this.config.pidsLimit);
        await this.checkFits(s.flavor, signal);
        const volumes: StoredVolume[] = [];
        for (const [i, v] of s.blockDeviceInfo.volumes.entries()) {
          volumes.push(await this.storedVolume(v, ['spec', 'blockDeviceInfo', 'volumes', i, 'connectionInfo'], 'spawn'));
        }
        const labels: InstanceLabels = {
          uuid: s.uuid,
          name: s.name,
          metadata,
          flavor: s.flavor,
          node: this.node,
          image: s.image,
          volumes,
        };
        this.inFlight.add(key);
        try {
          await this.createInstance(s.uuid, imageRef, labels, pidsLimit, s.networkInfo, s.powerOn, signal);
        } finally {
          this.inFlight.delete(key);
        }
      } catch (err) {
        throw toContractError(err, 'spawn', s.uuid);
      }
    });
  }

  async destroy(uuid: string, options?: CallOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'destroy', ['uuid']);
    const signal = options?.signal;
    checkAborted(signal, 'destroy');
    return this.locks.run(id.toLowerCase(), async () => {
      try {
        await this.flushCleanup(signal);
        const found = await this.locate(id, signal);
        // Leftovers of this uuid (a replacement or spawn that died) go too, when owned.
        const leftovers = await this.leftoversOf(id, signal);
        if (!found && leftovers.length === 0) return;
        const networks = new Set<string>();
        for (const c of [...(found ? [found.inspect] : []), ...leftovers]) {
          for (const n of Object.keys(c.NetworkSettings.Networks ?? {})) networks.add(n);
          await this.removeOwnedContainer(c, signal);
        }
        await this.removeStateImage(id, signal);
        await this.collectNetworks([...networks], signal);
      } catch (err) {
        throw toContractError(err, 'destroy', id);
      }
    });
  }

  async powerOff(uuid: string, options?: PowerOffOptions): Promise<void> {
    const grace =
      options?.gracefulTimeoutMs === undefined ? this.config.stopTimeoutSeconds : Math.ceil(Math.max(0, options.gracefulTimeoutMs) / 1000);
    await this.transition('powerOff', 'powerOff', uuid, options?.signal, async (f, signal) => {
      if (f.power === 'CRASHED') {
        // An OOM-killed container keeps reporting it until it runs again: start it and kill it, so it reads as
        // cleanly stopped (SHUTDOWN), as the table wants.
        await this.client.startContainer(f.inspect.Id, signal);
        await this.client.stopContainer(f.inspect.Id, 0, signal);
        return;
      }
      await this.unpauseIfEngineNeeds(f, signal);
      await this.client.stopContainer(f.inspect.Id, grace, signal);
    });
  }

  async powerOn(uuid: string, options?: CallOptions): Promise<void> {
    await this.transition('powerOn', 'powerOn', uuid, options?.signal, async (f, signal) => {
      await this.client.startContainer(f.inspect.Id, signal);
    });
  }

  async reboot(uuid: string, type: RebootType, options?: CallOptions): Promise<void> {
    const t = parseArg(RebootTypeSchema, type, 'reboot', ['type']);
    const op: TableOperation = t === 'SOFT' ? 'rebootSoft' : 'rebootHard';
    await this.transition('reboot', op, uuid, options?.signal, async (f, signal) => {
      // restart unfreezes a paused container first and starts a stopped one; SOFT gives the init the graceful
      // period, HARD kills at once. (podman refuses a paused one: unpaused first there.)
      await this.unpauseIfEngineNeeds(f, signal);
      await this.client.restartContainer(f.inspect.Id, t === 'SOFT' ? this.config.stopTimeoutSeconds : 0, signal);
    });
  }

  async pause(uuid: string, options?: CallOptions): Promise<void> {
    await this.transition('pause', 'pause', uuid, options?.signal, async (f, signal) => {
      await this.client.pauseContainer(f.inspect.Id, signal);
    });
  }

  async unpause(uuid: string, options?: CallOptions): Promise<void> {
    await this.transition('unpause', 'unpause', uuid, options?.signal, async (f, signal) => {
      await this.client.unpauseContainer(f.inspect.Id, signal);
    });
  }

  async suspend(_uuid: string, _options?: CallOptions): Promise<void> {
    throw errors.unsupported('operation.suspend', 'suspend');
  }

  async resume(_uuid: string, _options?: CallOptions): Promise<void> {
    throw errors.unsupported('operation.resume', 'resume');
  }

  async rescue(_uuid: string, _spec: RescueSpec, _options?: CallOptions): Promise<void> {
    void RescueSpecSchema;
    throw errors.unsupported('operation.rescue', 'rescue');
  }

  async unrescue(_uuid: string, _options?: CallOptions): Promise<void> {
    throw errors.unsupported('operation.rescue', 'unrescue');
  }

  async extendVolume(_uuid: string, _volumeId: string, _newSizeGb: number, _options?: CallOptions): Promise<void> {
    throw errors.unsupported('operation.extend-volume', 'extendVolume');
  }

  async rebuild(uuid: string, spec: RebuildSpec, options?: CallOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'rebuild', ['uuid']);
    const r = parseArg(RebuildSpecSchema, spec, 'rebuild', ['spec']);
    const rawMetadata = (spec as Partial<RebuildSpec>).metadata;
    const signal = options?.signal;
    checkAborted(signal, 'rebuild');
    return this.locks.run(id.toLowerCase(), async () => {
      try {
        const f = await this.decide('rebuild', 'rebuild', id, signal);
        const imageRef = await this.resolveImage(r.image.id, ['spec', 'image', 'id'], 'rebuild', signal);
        const labels: InstanceLabels = {
          ...f.labels,
          image: r.image,
          metadata: rawMetadata !== undefined ? Object.fromEntries(Object.entries(rawMetadata)) : f.labels.metadata,
        };
        await this.replace(f, labels, { imageRef, keepLayer: false, target: 'RUNNING' }, signal);
        await this.removeStateImage(id, signal);
      } catch (err) {
        throw toContractError(err, 'rebuild', id);
      }
    });
  }

  async snapshot(uuid: string, spec: SnapshotSpec, options?: CallOptions): Promise<SnapshotResult> {
    const id = parseArg(UuidSchema, uuid, 'snapshot', ['uuid']);
    const s = parseArg(SnapshotSpecSchema, spec, 'snapshot', ['spec']);
    const signal = options?.signal;
    checkAborted(signal, 'snapshot');
    return this.locks.run(id.toLowerCase(), async () => {
      try {
        const f = await this.decide('snapshot', 'snapshot', id, signal);
        const repo = `${this.config.namePrefix}-snapshot`;
        const tag = `${this.config.ownerId.toLowerCase().replace(/[^a-z0-9_.-]/g, '-')}-${randomBytes(8).toString('hex')}`;
        const labels = {
          [this.keys.owner]: this.config.ownerId,
          [this.keys.kind]: 'snapshot',
          [this.keys.uuid]: f.labels.uuid,
          [this.keys.snapshotName]: s.name,
        };
        await this.commitWithLabels(f.inspect.Id, repo, tag, labels, signal);
        const ref = `${repo}:${tag}`;
        const image = await this.client.inspectImage(ref, signal);
        return { imageId: ref, name: s.name, diskFormat: 'raw', containerFormat: 'docker', sizeBytes: Math.max(0, Math.floor(image.Size)) };
      } catch (err) {
        throw toContractError(err, 'snapshot', id);
      }
    });
  }

  async deleteSnapshot(imageId: string, options?: CallOptions): Promise<void> {
    const ref = parseArg(IdentifierSchema, imageId, 'deleteSnapshot', ['imageId']);
    const signal = options?.signal;
    checkAborted(signal, 'deleteSnapshot');
    if (!isValidImageReference(ref)) return; // not an image reference: no such image, nothing to delete
    try {
      let image;
      try {
        image = await this.client.inspectImage(ref, signal);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      if (!isOwned(this.naming, image.Config?.Labels, 'snapshot')) {
        throw errors.invalidInput([{ path: ['imageId'], message: 'is not a snapshot this driver made' }], 'deleteSnapshot');
      }
      try {
        await this.client.removeImage(ref, signal);
      } catch (err) {
        if (isNotFound(err)) return;
        if (isConflict(err)) {
          throw new DriverError('CONFLICT', { op: 'deleteSnapshot', target: ref, detail: 'an instance still runs from this image', cause: err });
        }
        throw err;
      }
    } catch (err) {
      throw toContractError(err, 'deleteSnapshot', ref);
    }
  }

  async attachVolume(uuid: string, attachment: VolumeAttachment, options?: CallOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'attachVolume', ['uuid']);
    const a = parseArg(VolumeAttachmentSchema, attachment, 'attachVolume', ['attachment']);
    const signal = options?.signal;
    checkAborted(signal, 'attachVolume');
    return this.locks.run(id.toLowerCase(), async () => {
      try {
        const f = await this.decide('attachVolume', 'attachVolume', id, signal);
        const vkey = a.volumeId.toLowerCase();
        if (this.volumesOf(f).some((v) => v.volumeId.toLowerCase() === vkey)) {
          throw new DriverError('VOLUME_ALREADY_ATTACHED', { op: 'attachVolume', target: a.volumeId });
        }
        const stored = await this.storedVolume(a, ['attachment', 'connectionInfo'], 'attachVolume');
        const labels: InstanceLabels = { ...f.labels, volumes: [...f.labels.volumes, stored] };
        await this.replace(f, labels, { keepLayer: true, target: f.state }, signal);
      } catch (err) {
        throw toContractError(err, 'attachVolume', id);
      }
    });
  }

  async detachVolume(uuid: string, volumeId: string, options?: CallOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'detachVolume', ['uuid']);
    const v = parseArg(UuidSchema, volumeId, 'detachVolume', ['volumeId']);
    const signal = options?.signal;
    checkAborted(signal, 'detachVolume');
    return this.locks.run(id.toLowerCase(), async () => {
      try {
        const f = await this.decide('detachVolume', 'detachVolume', id, signal);
        const vkey = v.toLowerCase();
        if (!this.volumesOf(f).some((x) => x.volumeId.toLowerCase() === vkey)) {
          throw new DriverError('VOLUME_NOT_ATTACHED', { op: 'detachVolume', target: v });
        }
        const labels: InstanceLabels = { ...f.labels, volumes: f.labels.volumes.filter((x) => x.volumeId.toLowerCase() !== vkey) };
        await this.replace(f, labels, { keepLayer: true, target: f.state }, signal);
      } catch (err) {
        throw toContractError(err, 'detachVolume', id);
      }
    });
  }

  async attachInterface(uuid: string, vif: Vif, options?: CallOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'attachInterface', ['uuid']);
    const v = parseArg(VifSchema, vif, 'attachInterface', ['vif']);
    const signal = options?.signal;
    checkAborted(signal, 'attachInterface');
    return this.locks.run(id.toLowerCase(), async () => {
      try {
        const f = await this.decide('attachInterface', 'attachInterface', id, signal);
        if (this.interfacesOf(f.inspect).some((i) => i.id.toLowerCase() === v.id.toLowerCase())) {
          throw new DriverError('INTERFACE_ALREADY_ATTACHED', { op: 'attachInterface', target: v.id });
        }
        await this.aroundNetworkChange(f, signal, () => this.connectVif(f.inspect, v, signal));
      } catch (err) {
        throw toContractError(err, 'attachInterface', id);
      }
    });
  }

  async detachInterface(uuid: string, vifId: string, options?: CallOptions): Promise<void> {
    const id = parseArg(UuidSchema, uuid, 'detachInterface', ['uuid']);
    const v = parseArg(UuidSchema, vifId, 'detachInterface', ['vifId']);
    const signal = options?.signal;
    checkAborted(signal, 'detachInterface');
    return this.locks.run(id.toLowerCase(), async () => {
      try {
        const f = await this.decide('detachInterface', 'detachInterface', id, signal);
        const entry = Object.entries(f.inspect.NetworkSettings.Networks ?? {}).find(
          ([, ep]) => vifOfEndpoint(this.naming, ep)?.id.toLowerCase() === v.toLowerCase(),
        );
        if (!entry) throw new DriverError('INTERFACE_NOT_ATTACHED', { op: 'detachInterface', target: v });
        await this.aroundNetworkChange(f, signal, () =>
          this.locks.run('\0networks', async () => {
            await this.client.disconnectNetwork(entry[0], f.inspect.Id, signal);
          }),
        );
        await this.collectNetworks([entry[0]], signal);
      } catch (err) {
        throw toContractError(err, 'detachInterface', id);
      }
    });
  }

  async getConsoleOutput(uuid: string, options?: CallOptions): Promise<ConsoleOutput> {
    const id = parseArg(UuidSchema, uuid, 'getConsoleOutput', ['uuid']);
    const signal = options?.signal;
    checkAborted(signal, 'getConsoleOutput');
    try {
      const f = await this.decide('getConsoleOutput', 'getConsoleOutput', id, signal);
      const lines = this.config.consoleLogLines;
      const raw = await this.client.containerLogs(f.inspect.Id, lines + 1, signal);
      const text = demultiplex(raw);
      const count = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
      return tailOutput(text, lines, this.config.consoleLogBytes, count > lines);
    } catch (err) {
      throw toContractError(err, 'getConsoleOutput', id);
    }
  }

  subscribeEvents(listener: LifecycleListener): Unsubscribe {
    if (typeof listener !== 'function') {
      throw errors.invalidInput([{ path: ['listener'], message: 'must be a function' }], 'subscribeEvents');
    }
    if (!this.events) this.events = new EventStream(this.client, this.naming, () => this.node, () => this.differences.eventFilter);
    return this.events.subscribe(listener);
  }

  // ---- internals: finding and deciding ------------------------------------------------

  private async ownedContainers(signal?: AbortSignal): Promise<ContainerSummary[]> {
    return this.client.listContainers({ label: ownerFilter(this.naming, 'instance') }, signal);
  }

  /** The instance container of a uuid, when it exists and is owned. */
  private async locate(uuid: string, signal?: AbortSignal): Promise<Located | undefined> {
    let inspect: ContainerInspect;
    try {
      inspect = await this.client.inspectContainer(containerName(this.naming, uuid), signal);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const labels = readInstanceLabels(this.naming, inspect.Config.Labels);
    if (!labels || labels.uuid.toLowerCase() !== uuid.toLowerCase()) return undefined;
    const power = powerStateOf(inspect.State);
    return { inspect, labels, power, state: power };
  }

  /** Locate and check the semantics table: the instance, or the table's exact error. */
  private async decide(op: string, tableOp: TableOperation, uuid: string, signal?: AbortSignal): Promise<Located> {
    await this.flushCleanup(signal);
    const f = await this.locate(uuid, signal);
    const outcome = expectedOutcome(f ? f.state : 'ABSENT', tableOp);
    if (!outcome.ok) {
      if (outcome.error === 'INSTANCE_NOT_FOUND' || !f) throw errors.notFound(uuid, op);
      throw errors.invalidState(uuid, f.power, op);
    }
    return f!;
  }

  /**
   * A power transition: check the table, do nothing when already there (the engine's 304),
   * otherwise act and absorb the engine's "already in that state" answers.
   */
  private async transition(
    op: string,
    tableOp: TableOperation,
    uuid: string,
    signal: AbortSignal | undefined,
    act: (f: Located, signal: AbortSignal | undefined) => Promise<void>,
  ): Promise<void> {
    const id = parseArg(UuidSchema, uuid, op, ['uuid']);
    checkAborted(signal, op);
    return this.locks.run(id.toLowerCase(), async () => {
      try {
        const f = await this.decide(op, tableOp, id, signal);
        const outcome = expectedOutcome(f.state, tableOp);
        if (outcome.ok && outcome.noop) return;
        await act(f, signal);
      } catch (err) {
        throw toContractError(err, op, id);
      }
    });
  }

  private volumesOf(f: Located): StoredVolume[] {
    // The mounts and devices are the truth; the labels add the ids and names.
    const mounted = mountedTargets(f.inspect);
    return f.labels.volumes.filter((v) => mounted.has(v.target));
  }

  private interfacesOf(inspect: ContainerInspect): { id: string; address: string }[] {
    const out: { id: string; address: string }[] = [];
    for (const [name, ep] of Object.entries(inspect.NetworkSettings.Networks ?? {})) {
      if (name === this.baseNetwork) continue;
      const vif = vifOfEndpoint(this.naming, ep);
      if (vif) out.push(vif);
    }
    return out;
  }

  private infoOf(f: Located): InstanceInfo {
    const volumes = this.volumesOf(f)
      .map((v) => ({
        volumeId: v.volumeId,
        ...(v.deviceName !== undefined ? { deviceName: v.deviceName } : {}),
        ...(v.sizeGb !== undefined ? { sizeGb: v.sizeGb } : {}),
      }))
      .sort((a, b) => (a.volumeId < b.volumeId ? -1 : a.volumeId > b.volumeId ? 1 : 0));
    const interfaces = this.interfacesOf(f.inspect).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return {
      uuid: f.labels.uuid,
      name: f.labels.name,
      powerState: f.power,
      mode: 'normal',
      node: f.labels.node || this.node,
      metadata: f.labels.metadata,
      volumes,
      interfaces,
    };
  }

  // ---- internals: spawning ------------------------------------------------------------

  private async resolveImage(id: string, field: (string | number)[], op: string, signal?: AbortSignal): Promise<string> {
    const ref = imageReferenceFor(this.config.imageMap, id);
    if (!isValidImageReference(ref)) {
      throw errors.invalidInput([{ path: field, message: `${JSON.stringify(ref)} is not a local image reference (name[:tag] or image id)` }], op);
    }
    if (!imageAllowed(this.config.images, ref)) {
      throw errors.invalidInput([{ path: field, message: 'image is not in the allowlist of this driver' }], op);
    }
    try {
      await this.client.inspectImage(ref, signal);
    } catch (err) {
      if (isNotFound(err)) throw errors.invalidInput([{ path: field, message: 'no such image on this engine (images are never pulled)' }], op);
      throw err;
    }
    return ref;
  }

  private async usedResources(signal?: AbortSignal): Promise<Record<string, number>> {
    const used: Record<string, number> = {};
    for (const c of await this.ownedContainers(signal)) {
      if (phaseOfName(this.naming, c.Names[0] ?? '')?.phase !== 'instance') continue;
      const labels = readInstanceLabels(this.naming, c.Labels);
      if (!labels?.flavor) continue;
      for (const [cls, n] of Object.entries(expectedUsage(labels.flavor))) used[cls] = (used[cls] ?? 0) + n;
    }
    return used;
  }

  /** Placement's check, as the reference driver does it: each class must exist and fit. */
  private async checkFits(flavor: InstanceSpec['flavor'], signal?: AbortSignal): Promise<void> {
    const limits: Record<string, { total: number; ratio: number }> = {
      VCPU: { total: this.hostCpus, ratio: this.config.cpuAllocationRatio },
      MEMORY_MB: { total: this.memTotalMb, ratio: this.config.ramAllocationRatio },
      DISK_GB: { total: this.diskTotalGb, ratio: this.config.diskAllocationRatio },
    };
    const want = expectedUsage(flavor);
    const used = await this.usedResources(signal);
    for (const [cls, amount] of Object.entries(want)) {
      const l = limits[cls];
      if (!l || amount > l.total || (used[cls] ?? 0) + amount > l.total * l.ratio) {
        throw new DriverError('INSUFFICIENT_RESOURCES', { op: 'spawn', target: this.node, detail: `${cls} ${amount} does not fit` });
      }
    }
  }

  private async storedVolume(v: VolumeAttachment, field: (string | number)[], op: string): Promise<StoredVolume> {
    const resolved = await resolveVolume(
      { volumeRoot: this.config.volumeRoot, deviceAllowlist: this.config.deviceAllowlist },
      v.connectionInfo,
      field,
      op,
    );
    return {
      volumeId: v.volumeId,
      ...(v.deviceName !== undefined ? { deviceName: v.deviceName } : {}),
      ...(v.sizeGb !== undefined ? { sizeGb: v.sizeGb } : {}),
      target: volumeTarget(resolved.kind, v.volumeId),
      source: resolved.source,
      kind: resolved.kind,
    };
  }

  private bodyFor(imageRef: string, labels: InstanceLabels, pidsLimit: number) {
    const body = buildContainerConfig({
      naming: this.naming,
      imageRef,
      labels,
      baseNetwork: this.baseNetwork,
      hostCpus: this.hostCpus,
      pidsLimit,
      init: this.config.init,
      stopTimeoutSeconds: this.config.stopTimeoutSeconds,
    });
    assertSafe(body, new Set(labels.volumes.map((v) => v.source)));
    return body;
  }

  /**
   * Create, wire and start an instance under a temporary name, then give it its real name as the last step:
   * until then it is no instance (not listed, not found), and whatever fails removes it.
   */
  private async createInstance(
    uuid: string,
    imageRef: string,
    labels: InstanceLabels,
    pidsLimit: number,
    vifs: readonly Vif[],
    powerOn: boolean,
    signal?: AbortSignal,
  ): Promise<void> {
    const temp = containerName(this.naming, uuid, 'spawning');
    let containerId: string | undefined;
    const touchedNetworks: string[] = [];
    try {
      containerId = await this.client.createContainer(temp, this.bodyFor(imageRef, labels, pidsLimit), signal);
      await this.hooks.afterCreate?.(containerId, uuid);
      const wired: Pick<ContainerInspect, 'Id' | 'NetworkSettings'> = { Id: containerId, NetworkSettings: { Networks: {} } };
      for (const vif of vifs) {
        const net = await this.connectVif(wired, vif, signal);
        touchedNetworks.push(net);
        wired.NetworkSettings.Networks![net] = {};
      }
      if (powerOn) await this.client.startContainer(containerId, signal);
      await this.client.renameContainer(containerId, containerName(this.naming, uuid), signal);
    } catch (err) {
      if (containerId !== undefined) await this.discard(containerId, uuid);
      await this.collectNetworks(touchedNetworks).catch(() => undefined);
      if (isConflict(err) && containerId === undefined) throw errors.exists(uuid, 'spawn');
      throw err;
    }
  }

  /** Remove a container a failed operation made; when the engine is away, remember it and retry later. */
  private async discard(containerId: string, uuid: string): Promise<void> {
    try {
      await this.client.removeContainer(containerId);
    } catch (err) {
      if (isNotFound(err)) return;
      this.pendingCleanup.set(containerId, uuid);
      this.scheduleCleanup();
    }
  }

  private scheduleCleanup(): void {
    if (this.cleanupTimer) return;
    this.cleanupTimer = setInterval(() => {
      void this.flushCleanup().catch(() => undefined);
    }, 1000);
    this.cleanupTimer.unref?.();
  }

  /** Retry the removals a failed spawn owes. Cheap when there are none. */
  private async flushCleanup(signal?: AbortSignal): Promise<void> {
    if (this.pendingCleanup.size === 0) return;
    for (const [id, uuid] of [...this.pendingCleanup]) {
      try {
        await this.client.removeContainer(id, signal);
        this.pendingCleanup.delete(id);
      } catch (err) {
        if (isNotFound(err)) {
          this.pendingCleanup.delete(id);
          continue;
        }
        if (isUnavailable(err)) return; // still away: try again later
        void uuid;
        this.pendingCleanup.delete(id);
      }
    }
    if (this.pendingCleanup.size === 0 && this.cleanupTimer) {
      clearInterval(this.cleanupTimer);
      this.cleanupTimer = undefined;
    }
  }

  /**
   * Startup sweep: owned containers under a temporary name (a spawn or a replacement that the engine or the
   * driver died in), older than `minAgeSeconds` and not in flight here. A replacement whose instance is gone
   * is the instance now: it gets the real name; every other leftover is removed.
   */
  async sweep(minAgeSeconds: number, signal?: AbortSignal): Promise<number> {
    let removed = 0;
    const now = Date.now() / 1000;
    const all = await this.ownedContainers(signal);
    const finals = new Set(
      all.map((c) => phaseOfName(this.naming, c.Names[0] ?? '')).filter((p) => p?.phase === 'instance').map((p) => p!.uuid),
    );
    for (const c of all) {
      const p = phaseOfName(this.naming, c.Names[0] ?? '');
      if (!p || p.phase === 'instance') continue;
      if (this.inFlight.has(p.uuid) || now - c.Created < minAgeSeconds) continue;
      if (p.phase === 'replacing' && !finals.has(p.uuid)) {
        await this.client.renameContainer(c.Id, containerName(this.naming, p.uuid), signal);
        finals.add(p.uuid);
        continue;
      }
      try {
        await this.client.removeContainer(c.Id, signal);
        removed++;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return removed;
  }

  private async leftoversOf(uuid: string, signal?: AbortSignal): Promise<ContainerInspect[]> {
    if (this.inFlight.has(uuid.toLowerCase())) return [];
    const out: ContainerInspect[] = [];
    for (const phase of ['spawning', 'replacing'] as const) {
      try {
        const c = await this.client.inspectContainer(containerName(this.naming, uuid, phase), signal);
        if (isOwned(this.naming, c.Config.Labels, 'instance')) out.push(c);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return out;
  }

  private async removeOwnedContainer(c: ContainerInspect, signal?: AbortSignal): Promise<void> {
    if (!isOwned(this.naming, c.Config.Labels, 'instance')) return; // never touch what is not ours
    try {
      await this.client.removeContainer(c.Id, signal);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  // ---- internals: replacing (attach/detach volume, rebuild) ---------------------------

  private stateImageRepo(uuid: string): string {
    return `${this.config.namePrefix}-state/${uuid.toLowerCase()}`;
  }

  private async removeStateImage(uuid: string, signal?: AbortSignal): Promise<void> {
    const ref = `${this.stateImageRepo(uuid)}:latest`;
    try {
      const image = await this.client.inspectImage(ref, signal);
      if (!isOwned(this.naming, image.Config?.Labels, 'state-image')) return;
      await this.client.removeImage(ref, signal);
    } catch (err) {
      // Gone already, or still the parent of a snapshot (the tag is removed, the layers stay with the snapshot).
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }

  /**
   * Recreate an instance's container with new labels (mounts follow the recorded volumes), keeping its
   * writable layer through a commit when asked, its VIF endpoints, and bringing it to `target`.
   * The new container is made under a temporary name first; the old one is removed only once it exists.
   */
  private async replace(
    f: Located,
    labels: InstanceLabels,
    how: { imageRef?: string; keepLayer: boolean; target: SemanticState },
    signal?: AbortSignal,
  ): Promise<void> {
    const key = labels.uuid.toLowerCase();
    this.inFlight.add(key);
    try {
      let imageRef = how.imageRef ?? f.inspect.Config.Image;
      if (how.keepLayer) {
        if (f.power === 'RUNNING' || f.power === 'PAUSED') {
          await this.unpauseIfEngineNeeds(f, signal);
          await this.client.stopContainer(f.inspect.Id, this.config.stopTimeoutSeconds, signal);
        }
        const repo = this.stateImageRepo(labels.uuid);
        await this.commitWithLabels(
          f.inspect.Id,
          repo,
          'latest',
          { [this.keys.owner]: this.config.ownerId, [this.keys.kind]: 'state-image', [this.keys.uuid]: labels.uuid },
          signal,
        );
        imageRef = `${repo}:latest`;
      }
      const pidsLimit = f.inspect.HostConfig.PidsLimit ?? this.config.pidsLimit;
      const temp = containerName(this.naming, labels.uuid, 'replacing');
      const newId = await this.client.createContainer(temp, this.bodyFor(imageRef, labels, pidsLimit), signal);
      try {
        for (const [net, ep] of Object.entries(f.inspect.NetworkSettings.Networks ?? {})) {
          if (net === this.baseNetwork || !vifOfEndpoint(this.naming, ep)) continue;
          await this.client.connectNetwork(net, newId, this.endpointCopy(ep), signal);
        }
      } catch (err) {
        await this.discard(newId, labels.uuid);
        throw err;
      }
      await this.client.removeContainer(f.inspect.Id, signal);
      await this.client.renameContainer(newId, containerName(this.naming, labels.uuid), signal);
      if (how.target === 'RUNNING' || how.target === 'PAUSED') await this.client.startContainer(newId, signal);
      if (how.target === 'PAUSED') await this.client.pauseContainer(newId, signal);
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Commit a container to repo:tag carrying `labels` (as `changes` on engines that ignore the body's labels). */
  private async commitWithLabels(id: string, repo: string, tag: string, labels: Record<string, string>, signal?: AbortSignal): Promise<void> {
    const changes = this.differences.commitLabelsAsChanges ? labelChanges(labels) : [];
    await this.client.commit(id, repo, tag, labels, false, signal, changes);
  }

  /** Engines that refuse to stop or restart a paused container (podman) get it unpaused first. */
  private async unpauseIfEngineNeeds(f: Located, signal?: AbortSignal): Promise<void> {
    if (f.power === 'PAUSED' && this.differences.unpauseBeforeStop) await this.client.unpauseContainer(f.inspect.Id, signal);
  }

  /**
   * A network change on an instance. Engines that break a paused container's record on a network change
   * (podman) get it unpaused for the change and paused again, whether the change worked or not.
   */
  private async aroundNetworkChange<T>(f: Located, signal: AbortSignal | undefined, change: () => Promise<T>): Promise<T> {
    if (f.power !== 'PAUSED' || !this.differences.unpauseAroundNetworkChange) return change();
    await this.client.unpauseContainer(f.inspect.Id, signal);
    try {
      return await change();
    } finally {
      await this.client.pauseContainer(f.inspect.Id, signal);
    }
  }

  private endpointCopy(ep: EndpointSettings): EndpointSettings {
    const vif = vifOfEndpoint(this.naming, ep);
    const aliases = (ep.Aliases ?? []).filter((a) => a.startsWith(`${this.config.namePrefix}-`));
    const out: EndpointSettings = { Aliases: aliases };
    if (vif && this.client.supports('1.44')) out.MacAddress = vif.address;
    return out;
  }

  // ---- internals: networks ------------------------------------------------------------

  /** Make sure an owned internal network exists under `name`. */
  private async ensureNetwork(name: string, networkId: string, signal?: AbortSignal): Promise<void> {
    try {
      const n = await this.client.inspectNetwork(name, signal);
      if (!isOwned(this.naming, n.Labels, 'network')) {
        throw new DriverError('INTERNAL', { detail: `network ${name} exists but was not made by this driver` });
      }
      return;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      await this.client.createNetwork(name, networkLabels(this.naming, networkId), signal);
    } catch (err) {
      // Created meanwhile by a concurrent call (409): fine.
      if (!(err instanceof EngineHttpError && (err.status === 409 || /already exists/.test(err.engineMessage)))) throw err;
    }
  }

  /** Connect a VIF: its network (created on demand), an endpoint carrying its id and MAC. Returns the network name. */
  private async connectVif(
    container: Pick<ContainerInspect, 'Id' | 'NetworkSettings'>,
    vif: Vif,
    signal?: AbortSignal,
  ): Promise<string> {
    return this.locks.run('\0networks', async () => {
      const attached = new Set(Object.keys(container.NetworkSettings.Networks ?? {}));
      let name = networkName(this.naming, vif.network.id);
      // Engines allow one endpoint per network and container: a second VIF on the same network gets its own.
      if (attached.has(name)) name = networkName(this.naming, vif.network.id, vif.id.slice(0, 8).toLowerCase());
      await this.ensureNetwork(name, vif.network.id, signal);
      await this.client.connectNetwork(name, container.Id, endpointFor(this.naming, vif, this.client.supports('1.44')), signal);
      return name;
    });
  }

  /** Remove owned networks (never the base one) that no container uses any more. */
  private async collectNetworks(names: readonly string[], signal?: AbortSignal): Promise<void> {
    const candidates = names.filter((n) => n !== this.baseNetwork);
    if (candidates.length === 0) return;
    await this.locks.run('\0networks', async () => {
      for (const name of candidates) {
        try {
          const n = await this.client.inspectNetwork(name, signal);
          if (!isOwned(this.naming, n.Labels, 'network')) continue;
          // The network's own view lists running containers only; a stopped container still
          // holds an endpoint on it and would fail to start without it.
          if (Object.keys(n.Containers ?? {}).length > 0) continue;
          if ((await this.client.listContainers({ network: [n.Id] }, signal)).length > 0) continue;
          await this.client.removeNetwork(n.Id, signal);
        } catch (err) {
          if (isNotFound(err) || (err instanceof EngineHttpError && isNetworkInUse(err.status, err.engineMessage))) continue;
          throw err;
        }
      }
    });
  }
}

/** Create an unconnected container driver; call initHost before anything else. */
export function createContainerDriver(config: ContainerDriverConfigInput = {}, hooks: ContainerDriverHooks = {}): ContainerComputeDriver {
  return new ContainerComputeDriver(config, hooks);
}
