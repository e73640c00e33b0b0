import { randomUUID } from 'node:crypto';
import { currentHolder, ListenerSet, type LifecycleEvent, type PowerState } from '@nova-common/core';
import { LibvirtClient } from '../client/libvirt-client.js';
import { bytesToUuid, type DomainRef } from '../client/protocol/remote-types.js';
import { daemonUri, inferDomainType, type LibvirtDriverConfig } from '../config.js';
import { defaultCpu, diskCache, isInstanceDomainName, type CpuSettings, type DiskCaches, type DomainEnvironment, type DomainType } from '../mapping/domain-xml.js';
import * as files from '../host-files.js';
import { OwnedIndex, type Usage } from './owned-index.js';
import type { RunningMigration } from './migration-progress.js';
import { RequestedTransitions } from './requested.js';
import { plugsFromObjects, type DriverPlugs, type PlugObjects } from './plugs.js';

/**
 * What a caller hands the driver besides its JSON configuration: plug objects (a VIF plugin,
 * a volume connector, which replace the configuration's vifPlugin/volumeConnector specs) and
 * hooks for fault-injection tests.
 */
export interface LibvirtDriverHooks extends PlugObjects {
  /**
   * Awaited in a spawn with powerOn once the domain runs on the backend and before the spawn
   * is complete (between starting the transient domain and making it persistent).
   */
  midSpawn?: (uuid: string) => Promise<void>;
}

/** What this host's node offers, read from libvirtd (NODE_GET_INFO) and the instances' filesystem. */
export interface NodeFacts {
  cpus: number;
  memoryMb: number;
  diskGb: number;
}

/**
 * What every operation module shares: the configuration, the protocol client, and this
 * driver session's bookkeeping (spawns and transitions in flight, what spawns reserve, the
 * owned tally placement sums). An instance's state is never kept here: every operation reads it from
 * libvirtd.
 */
export class DriverContext {
  readonly domainType: DomainType;
  readonly client: LibvirtClient;
  /** Written into every domain this session defines; the sweep tells sessions apart by it. */
  readonly session = randomUUID();
  /** This process, as the sweep of a later session checks whether it has died (see currentHolder). */
  readonly holder = currentHolder();
  readonly listeners = new ListenerSet<LifecycleEvent>();
  /** Spawns in flight in this session: the sweep leaves them alone, their events are ours. */
  readonly inFlight = new Set<string>();
  /** What spawns in flight hold: placement counts them with the instances. */
  readonly reservations = new Map<string, Usage>();
  /** Migrations running with this host as their source, by instance uuid: what getMigrationProgress reads. */
  readonly migrations = new Map<string, RunningMigration>();
  /** Which domains are this driver's and what they use: placement's tally, and event filtering. */
  readonly owned = new OwnedIndex();
  /**
   * Once events are asked for: the power state last announced for each instance (by an event,
   * or first read by an operation). After a reconnect, what changed meanwhile is announced
   * (recoverMissedEvents).
   */
  readonly announced = new Map<string, PowerState>();
  /** This driver's own transitions in flight per instance: what labels an event `requested` or `out-of-band`. */
  readonly requested = new RequestedTransitions();
  nodeName = '';
  /** Node facts, read at initHost and by every getInventory; spawn's placement uses them. */
  node: NodeFacts | undefined;
  /** Set by every (re)connect: sweep half-spawned domains and re-read the owned tally before the next operation. */
  resyncNeeded = false;
  resyncing: Promise<void> | undefined;
  /** Lifecycle events are handled one after another so they keep their order. */
  eventChain: Promise<void> = Promise.resolve();
  /** The host-side plugs (plugs.ts): the objects given at construction, the configured ones once initHost loaded them. */
  readonly plugs: DriverPlugs;

  constructor(
    readonly config: LibvirtDriverConfig,
    readonly hooks: LibvirtDriverHooks,
  ) {
    this.domainType = inferDomainType(config);
    this.plugs = plugsFromObjects(hooks);
    this.client = new LibvirtClient({
      socketPath: config.socketPath,
      uri: daemonUri(config.uri),
      callTimeoutMs: config.callTimeoutMs,
      connectTimeoutMs: config.connectTimeoutMs,
      keepaliveIntervalMs: config.keepaliveIntervalMs,
      keepaliveCount: config.keepaliveCount,
    });
  }

  /** Whether instances have files on this host (disks, console log): QEMU/KVM, not the test driver. */
  get hasFiles(): boolean {
    return this.domainType !== 'test';
  }

  private cachesMemo: DiskCaches | undefined;

  /** The guest CPU (QEMU/KVM): the configured mode, or the default of the domain type. */
  get cpu(): CpuSettings | undefined {
    if (this.domainType === 'test') return undefined;
    if (this.config.cpuMode === undefined) return defaultCpu(this.domainType);
    return { mode: this.config.cpuMode, ...(this.config.cpuModel !== undefined ? { model: this.config.cpuModel } : {}) };
  }

  /**
   * Disk cache modes (QEMU/KVM): the configured one, else none with io native where
   * instancesDir's filesystem takes O_DIRECT (probed once), writeback where it does not.
   */
  get caches(): DiskCaches {
    if (this.cachesMemo === undefined) {
      const configured = this.config.diskCacheMode;
      const file = configured ?? (files.supportsDirectIo(this.config.instancesDir) ? 'none' : 'writeback');
      this.cachesMemo = { file: diskCache(file), block: diskCache(configured ?? 'none') };
    }
    return this.cachesMemo;
  }

  /** The directory of the instance's disks and console log (QEMU/KVM). */
  instanceDir(uuid: string): string {
    return files.inside(this.config.instancesDir, uuid);
  }

  /** What the domain XML needs besides the record; `domainName` as the domain has it (or will). */
  env(uuid: string, domainName: string): DomainEnvironment {
    return {
      domainType: this.domainType,
      domainName,
      instanceDir: this.instanceDir(uuid),
      ...(this.config.kernel !== undefined ? { kernel: this.config.kernel } : {}),
      ...(this.config.initrd !== undefined ? { initrd: this.config.initrd } : {}),
      kernelArgs: this.config.kernelArgs,
      consoleLog: this.hasFiles,
      ...(this.hasFiles ? { cpu: this.cpu!, caches: this.caches } : {}),
    };
  }

  /** A handle on the instance's domain. libvirtd finds domains by the handle's uuid; the name is for reading only. */
  ref(uuid: string): DomainRef {
    return LibvirtClient.ref(`${this.config.namePrefix}${uuid}`, uuid);
  }

  /** Whether `name` is a name this driver gives the domain of instance `uuid`. */
  isInstanceName(uuid: string, name: string): boolean {
    return isInstanceDomainName(this.config.namePrefix, uuid, name);
  }

  /** The instance uuid of a domain named the way this driver names its domains, else undefined. */
  instanceUuidOf(d: DomainRef): string | undefined {
    if (!d.name.startsWith(this.config.namePrefix)) return undefined;
    const uuid = bytesToUuid(d.uuid);
    return this.isInstanceName(uuid, d.name) ? uuid : undefined;
  }
}
