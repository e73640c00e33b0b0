import { currentHolder, KeyedQueue, ListenerSet, type LifecycleEvent, type LifecycleEventKind, type PowerState } from '@nova-common/core';
import { EngineClient } from '../client/engine-client.js';
import type { ContainerDriverConfig } from '../config.js';
import { differencesOf, type EngineDifferences } from '../mapping/engine-kind.js';
import { labelKeys, type LabelKeys, type Naming } from '../mapping/labels.js';
import { baseNetworkName } from '../mapping/networks.js';
import { RequestedActivity } from './activity.js';
import { PendingRemovals } from './cleanup.js';
import { StopRecords } from './stop-records.js';
import { VifRecords } from './vif-records.js';
import type { GuardedVifPlugin, GuardedVolumeConnector, VifPlugin, VolumeConnector } from '@nova-common/core/plugs';
import type { RunningMigration } from './migration-progress.js';

/** Hooks for fault tests: called between the steps of a spawn. Not part of the configuration. */
export interface ContainerDriverHooks {
  /** After the container is created, before its networks are connected and it is started. */
  afterCreate?: (containerId: string, uuid: string) => Promise<void> | void;
  /** After its networks are connected, before it is started and renamed. */
  beforeStart?: (containerId: string, uuid: string) => Promise<void> | void;
  /**
   * On the source of a cold migration, at a step on the destination engine: `loading` once part of the
   * image has gone into the destination's load (the rest is sent when the hook returns), `created` once
   * the container is made and wired there, before it is started and takes the instance name.
   */
  migrationStep?: (step: 'loading' | 'created', uuid: string) => Promise<void> | void;
}

/**
 * Plugs given as objects (instead of, or overriding, the configuration's `vifPlugin` / `volumeConnector`
 * specs). They are put behind core's plug guard at initHost.
 */
export interface ContainerDriverPlugs {
  vifPlugin?: VifPlugin | GuardedVifPlugin;
  volumeConnector?: VolumeConnector | GuardedVolumeConnector;
  /** Where the configuration's plug modules are resolved from (default: the working directory). */
  plugResolveFrom?: string;
}

/** The second argument of the driver: fault-test hooks and plug objects. */
export type ContainerDriverOptions = ContainerDriverHooks & ContainerDriverPlugs;

/** What initHost learned about the engine's host. */
export interface HostFacts {
  /** The node id reported. */
  node: string;
  cpus: number;
  memoryMb: number;
  /** Size of the filesystem holding the engine's root dir (0 when it cannot be read). */
  diskGb: number;
  /** The engine's root dir (its images and containers): no volume root may touch it. Empty before initHost. */
  engineRootDir: string;
}

/**
 * What every part of the driver shares: its configuration and names, the engine client, what
 * initHost learned about the engine, and the work in flight in this process. Instances
 * themselves live in the engine only. Operations on one instance never overlap (the guard
 * serialises them); engine networks are shared by instances, so changes to one network go
 * through `networkQueue`, keyed by the network's name.
 */
export class EngineContext {
  readonly naming: Naming;
  readonly keys: LabelKeys;
  readonly baseNetwork: string;
  client: EngineClient;
  private clientClosed = false;
  host: HostFacts = { node: 'localhost', cpus: 1, memoryMb: 1, diskGb: 0, engineRootDir: '' };
  /** What the connected engine does differently (dockerd until initHost learns otherwise). */
  differences: EngineDifferences = differencesOf('docker');
  /** Uuids with a spawn or a replacement in flight here: the startup sweep and destroy leave their temporary containers alone. */
  readonly inFlight = new Set<string>();
  /** Migrations running with this engine as their source, by instance uuid: what getMigrationProgress reads. */
  readonly migrations = new Map<string, RunningMigration>();
  /** This process, written on the containers it makes (see currentHolder). */
  readonly holder = currentHolder();
  readonly networkQueue = new KeyedQueue();
  /** Containers a failed spawn or replacement still owes the engine's removal of. */
  readonly removals: PendingRemovals = new PendingRemovals(this);
  /** The runs the driver asked to stop (how an ended run reads: SHUTDOWN or CRASHED). */
  readonly stops: StopRecords;
  /** The VIFs the VIF plugin wires, per instance (driver/vif-records.ts). */
  readonly vifRecords: VifRecords;
  /** The plugs in use, behind the plug guard (set at initHost; absent: engine networks and volumeRoot paths). */
  vifPlugin: GuardedVifPlugin | undefined;
  volumeConnector: GuardedVolumeConnector | undefined;
  /** When the driver acts on each instance (the cause of the engine's events). */
  readonly activity = new RequestedActivity();
  /** Transitions the driver makes without the engine seeing one (acknowledging a crash); the event stream relays them. */
  readonly localEvents = new ListenerSet<LifecycleEvent>();

  constructor(
    readonly config: ContainerDriverConfig,
    readonly hooks: ContainerDriverOptions,
  ) {
    this.naming = { namePrefix: config.namePrefix, labelPrefix: config.labelPrefix, ownerId: config.ownerId };
    this.keys = labelKeys(this.naming);
    this.baseNetwork = baseNetworkName(this.naming);
    this.client = this.newClient();
    this.stops = new StopRecords(config.stateDir, config.ownerId);
    this.vifRecords = new VifRecords(config.stateDir, config.ownerId);
  }

  /** Report a transition the engine has no event for: a call of the driver made it (`requested`). */
  announce(uuid: string, kind: LifecycleEventKind, powerState: PowerState, node: string): void {
    this.localEvents.emit({ uuid, kind, powerState, node: node || this.host.node, timestamp: new Date().toISOString(), cause: 'requested' });
  }

  /** initHost after cleanupHost: connect again. */
  reconnect(): void {
    if (!this.clientClosed) return;
    this.client = this.newClient();
    this.clientClosed = false;
  }

  async disconnect(): Promise<void> {
    this.clientClosed = true;
    await this.client.close();
  }

  /** Whether endpoints take the VIF's MAC (engines from API 1.44). */
  get macHonoured(): boolean {
    return this.client.supports('1.44');
  }

  private newClient(): EngineClient {
    const { socketPath, apiVersion, connectTimeoutMs, requestTimeoutMs, longRequestTimeoutMs } = this.config;
    return new EngineClient({ socketPath, apiVersion, connectTimeoutMs, requestTimeoutMs, longRequestTimeoutMs });
  }
}
