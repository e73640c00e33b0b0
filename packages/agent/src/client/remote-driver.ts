import { randomUUID } from 'node:crypto';
import { create, type Message } from '@bufbuild/protobuf';
import type { Client, ServiceError } from '@grpc/grpc-js';
import {
  CONTRACT_VERSION,
  DriverError,
  OPERATIONS,
  type MigrationRequest,
  type MigrationProgress,
  type MigrationTarget,
  withRetry,
  type CallOptions,
  type ComputeDriver,
  type ConsoleOutput,
  type DriverCapabilities,
  type HostInventory,
  type InstanceInfo,
  type InstanceSpec,
  type InstanceSummary,
  type LifecycleListener,
  type NodeInfo,
  type PowerOffOptions,
  type RebootType,
  type RebuildSpec,
  type RescueSpec,
  type RestorableState,
  type SnapshotResult,
  type SnapshotSpec,
  type Unsubscribe,
  type Vif,
  type VolumeAttachment,
} from '@nova-common/core';
import { status } from '@grpc/grpc-js';
import { WIRE_OPERATIONS, type RemoteOperation } from '../mapping/operations.js';
import { permits, type Role } from '../server/roles.js';
import type * as pb from '../wire.js';
import { openChannel } from './channel.js';
import { RemoteDriverConfigSchema, type RemoteDriverConfig, type ResolvedRemoteDriverConfig } from './config.js';
import { RemoteEventStream, type EventsLost } from './event-stream.js';
import { TransportFailure, unaryCall } from './unary-call.js';

export interface RemoteDriverOptions extends RemoteDriverConfig {
  /** Told when the agent could not deliver some lifecycle events (see EventsLost). */
  onEventsLost?: (info: EventsLost) => void;
  /** Told when the event stream cannot go on (refused by role, or the driver has no events). */
  onEventStreamFailure?: (error: ServiceError) => void;
}

/** A ComputeDriver whose every operation is a call to a host agent. */
export interface RemoteDriver extends Required<ComputeDriver> {
  readonly endpoint: string;
  /** Who answered initHost: the agent's driver, versions. */
  /**
   * Who answers, after initHost: the served driver, its manifest's contract range (an agent
   * before 1.1 does not say: `^1.0.0`), the agent and the contract the agent implements.
   */
  readonly agent: { readonly driverName: string; readonly driverVersion: string; readonly driverContract: string; readonly agentVersion: string; readonly contractVersion: string } | undefined;
}


class RemoteComputeDriver implements RemoteDriver {
  readonly endpoint: string;
  agent: RemoteDriver['agent'];
  private readonly config: ResolvedRemoteDriverConfig;
  private readonly client: Client;
  private readonly events: RemoteEventStream;
  private readonly roles: ReadonlySet<Role> | undefined;

  constructor(options: RemoteDriverOptions) {
    const { onEventsLost, onEventStreamFailure, ...config } = options;
    this.config = RemoteDriverConfigSchema.parse(config);
    this.endpoint = this.config.endpoint;
    this.roles = this.config.role === undefined ? undefined : new Set([this.config.role]);
    this.client = openChannel(this.config);
    this.events = new RemoteEventStream(this.client, onEventsLost, onEventStreamFailure ?? (() => undefined));
  }

  /**
   * One operation: the request (with a fresh request id when it mutates, kept across retries),
   * the deadline, retries of what the transport failed, the answer's event position, and the
   * wait for the events the call caused when someone listens.
   */
  private async invoke(op: RemoteOperation, args: readonly unknown[], options?: CallOptions): Promise<unknown> {
    const wire = WIRE_OPERATIONS[op];
    if (this.roles !== undefined && !permits(this.roles, op)) {
      throw new DriverError('INTERNAL', { op, detail: `PERMISSION_DENIED: role ${this.config.role} may not call ${op} (checked before calling the agent)` });
    }
    const init = wire.toRequest(args, options as Record<string, unknown> | undefined) as Record<string, unknown>;
    if (wire.mutating) init['requestId'] = randomUUID();
    const request = create(wire.method.input, init as never) as Message;
    const deadline = Date.now() + (this.config.timeouts[op] ?? OPERATIONS[op].defaultTimeoutMs);
    const signal = options?.signal;
    // The first attempt fails fast when the agent is unreachable; a retry waits for the channel to
    // come back (an agent restarting) for up to reconnectWaitMs, never past the call's deadline.
    const answer = await withRetry(
      (n) =>
        n === 0
          ? unaryCall(this.client, wire, request, deadline, signal)
          : unaryCall(this.client, wire, request, Math.min(deadline, Date.now() + this.config.reconnectWaitMs), signal, true),
      this.config.retry,
      (error) => error instanceof TransportFailure && error.grpcCode === status.UNAVAILABLE,
      signal,
    ).catch((error: unknown) => {
      throw error instanceof TransportFailure ? error.error : error;
    });
    if (wire.mutating && this.events.active) await this.events.reached(answer.eventPosition, this.config.eventSyncTimeoutMs);
    else this.events.note(answer.eventPosition);
    return wire.fromResponse(answer.response as never);
  }

  async initHost(options?: CallOptions): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.client.waitForReady(Date.now() + this.config.connectTimeoutMs, (error) =>
        error ? reject(new DriverError('BACKEND_UNAVAILABLE', { op: 'initHost', target: this.endpoint, detail: error.message, cause: error })) : resolve(),
      ),
    );
    const wire = WIRE_OPERATIONS.getCapabilities;
    const answer = await unaryCall(this.client, wire, create(wire.method.input), Date.now() + this.config.connectTimeoutMs, options?.signal).catch((error: unknown) => {
      throw error instanceof TransportFailure ? error.error : error;
    });
    const response = answer.response as pb.GetCapabilitiesResponse;
    this.events.note(answer.eventPosition);
    this.agent = {
      driverName: response.driver?.name ?? '',
      driverVersion: response.driver?.version ?? '',
      driverContract: response.driver?.contract || '^1.0.0',
      agentVersion: response.agentVersion,
      contractVersion: response.contractVersion,
    };
    if (response.contractVersion.split('.')[0] !== CONTRACT_VERSION.split('.')[0]) {
      throw new DriverError('INVALID_INPUT', {
        op: 'initHost',
        issues: [{ path: ['endpoint'], message: `the agent serves contract ${response.contractVersion}, not compatible with ${CONTRACT_VERSION}` }],
      });
    }
  }

  async cleanupHost(): Promise<void> {
    this.events.close();
    this.client.close();
  }

  getCapabilities(o?: CallOptions) {
    return this.invoke('getCapabilities', [], o) as Promise<DriverCapabilities>;
  }
  listNodes(o?: CallOptions) {
    return this.invoke('listNodes', [], o) as Promise<NodeInfo[]>;
  }
  getInventory(o?: CallOptions) {
    return this.invoke('getInventory', [], o) as Promise<HostInventory>;
  }
  listInstances(o?: CallOptions) {
    return this.invoke('listInstances', [], o) as Promise<InstanceSummary[]>;
  }
  getInfo(uuid: string, o?: CallOptions) {
    return this.invoke('getInfo', [uuid], o) as Promise<InstanceInfo>;
  }
  async spawn(spec: InstanceSpec, o?: CallOptions) {
    await this.invoke('spawn', [spec], o);
  }
  async destroy(uuid: string, o?: CallOptions) {
    await this.invoke('destroy', [uuid], o);
  }
  async powerOff(uuid: string, o?: PowerOffOptions) {
    await this.invoke('powerOff', [uuid], o);
  }
  async powerOn(uuid: string, o?: CallOptions) {
    await this.invoke('powerOn', [uuid], o);
  }
  async reboot(uuid: string, type: RebootType, o?: CallOptions) {
    await this.invoke('reboot', [uuid, type], o);
  }
  async pause(uuid: string, o?: CallOptions) {
    await this.invoke('pause', [uuid], o);
  }
  async unpause(uuid: string, o?: CallOptions) {
    await this.invoke('unpause', [uuid], o);
  }
  async suspend(uuid: string, o?: CallOptions) {
    await this.invoke('suspend', [uuid], o);
  }
  async resume(uuid: string, o?: CallOptions) {
    await this.invoke('resume', [uuid], o);
  }
  async rescue(uuid: string, spec: RescueSpec, o?: CallOptions) {
    await this.invoke('rescue', [uuid, spec], o);
  }
  async unrescue(uuid: string, o?: CallOptions) {
    await this.invoke('unrescue', [uuid], o);
  }
  async rebuild(uuid: string, spec: RebuildSpec, o?: CallOptions) {
    await this.invoke('rebuild', [uuid, spec], o);
  }
  snapshot(uuid: string, spec: SnapshotSpec, o?: CallOptions) {
    return this.invoke('snapshot', [uuid, spec], o) as Promise<SnapshotResult>;
  }
  async deleteSnapshot(imageId: string, o?: CallOptions) {
    await this.invoke('deleteSnapshot', [imageId], o);
  }
  async attachVolume(uuid: string, attachment: VolumeAttachment, o?: CallOptions) {
    await this.invoke('attachVolume', [uuid, attachment], o);
  }
  async detachVolume(uuid: string, volumeId: string, o?: CallOptions) {
    await this.invoke('detachVolume', [uuid, volumeId], o);
  }
  async extendVolume(uuid: string, volumeId: string, newSizeGb: number, o?: CallOptions) {
    await this.invoke('extendVolume', [uuid, volumeId, newSizeGb], o);
  }
  async attachInterface(uuid: string, vif: Vif, o?: CallOptions) {
    await this.invoke('attachInterface', [uuid, vif], o);
  }
  async detachInterface(uuid: string, vifId: string, o?: CallOptions) {
    await this.invoke('detachInterface', [uuid, vifId], o);
  }
  getConsoleOutput(uuid: string, o?: CallOptions) {
    return this.invoke('getConsoleOutput', [uuid], o) as Promise<ConsoleOutput>;
  }
  async restoreState(uuid: string, desired: RestorableState, o?: CallOptions) {
    await this.invoke('restoreState', [uuid, desired], o);
  }
  listSnapshots(o?: CallOptions) {
    return this.invoke('listSnapshots', [], o) as Promise<SnapshotResult[]>;
  }
  prepareMigration(request: MigrationRequest, o?: CallOptions) {
    return this.invoke('prepareMigration', [request], o) as Promise<MigrationTarget>;
  }
  async migrate(uuid: string, target: MigrationTarget, o?: CallOptions) {
    await this.invoke('migrate', [uuid, target], o);
  }
  async finishMigration(migrationId: string, o?: CallOptions) {
    await this.invoke('finishMigration', [migrationId], o);
  }
  async abortMigration(migrationId: string, o?: CallOptions) {
    await this.invoke('abortMigration', [migrationId], o);
  }
  getMigrationProgress(uuid: string, o?: CallOptions) {
    return this.invoke('getMigrationProgress', [uuid], o) as Promise<MigrationProgress>;
  }
  subscribeEvents(listener: LifecycleListener): Unsubscribe {
    return this.events.add(listener);
  }
}

/**
 * A ComputeDriver that calls a host agent over gRPC: every operation is one RPC, errors come
 * back as the DriverError the agent's driver raised (same code, issues, state), an aborted signal
 * cancels the call, and subscribeEvents follows WatchEvents, resuming after reconnects. Wrap it
 * with guard() (loadDriver('@nova-common/agent/remote', config) does) like any driver.
 */
export function createRemoteDriver(options: RemoteDriverOptions): RemoteDriver {
  return new RemoteComputeDriver(options);
}
