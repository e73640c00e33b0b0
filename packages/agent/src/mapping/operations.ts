import type { DescMessage, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { DescMethod } from '@bufbuild/protobuf';
import type { OperationName } from '@nova-common/core';
import * as pb from '../wire.js';
import { volumeAttachmentFromProto, volumeAttachmentToProto } from './block-device-info.js';
import { capabilitiesFromProto, capabilitiesToProto } from './capabilities.js';
import { fromProto, rebootTypes, restorableStates } from './enums.js';
import { instanceInfoFromProto, instanceInfoToProto, instanceSummaryFromProto, instanceSummaryToProto } from './instance-info.js';
import {
  instanceSpecFromProto,
  instanceSpecToProto,
  rebuildSpecFromProto,
  rebuildSpecToProto,
  rescueSpecFromProto,
  rescueSpecToProto,
  snapshotSpecFromProto,
  snapshotSpecToProto,
} from './instance-spec.js';
import { hostInventoryFromProto, hostInventoryToProto, nodeInfoFromProto, nodeInfoToProto } from './inventory.js';
import {
  migrationProgressFromProto,
  migrationProgressToProto,
  migrationRequestFromProto,
  migrationRequestToProto,
  migrationTargetFromProto,
  migrationTargetToProto,
} from './migration.js';
import { vifFromProto, vifToProto } from './network-info.js';
import { consoleOutputFromProto, consoleOutputToProto, snapshotResultFromProto, snapshotResultToProto } from './outputs.js';

/** The operations that are RPCs: all of the registry's but the host's own (initHost, cleanupHost). */
export type RemoteOperation = Exclude<OperationName, 'initHost' | 'cleanupHost'>;
type Methods = typeof pb.ComputeService.method;

/** Fails to compile when the service and the registry disagree on the operations. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const SERVICE_MATCHES_REGISTRY: Same<Exclude<keyof Methods, 'watchEvents'>, RemoteOperation> = true;
void SERVICE_MATCHES_REGISTRY;

/** A call as the guard takes it: positional arguments (input form) and the options bag. */
export interface ContractCall {
  args: unknown[];
  options?: Record<string, unknown>;
}

/**
 * One operation on the wire: its RPC, and the four conversions between the guard's calls and
 * results and the RPC's messages. The server uses toCall/toResponse; the remote driver
 * toRequest/fromResponse.
 */
export interface WireOperation<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage> {
  readonly op: RemoteOperation;
  readonly method: DescMethod & { input: I; output: O };
  /** Mutating operations carry a request id and go through the idempotency journal. */
  readonly mutating: boolean;
  toCall(request: MessageShape<I>): ContractCall;
  toRequest(args: readonly unknown[], options?: Record<string, unknown>): MessageInitShape<I>;
  toResponse(result: unknown): MessageInitShape<O>;
  fromResponse(response: MessageShape<O>): unknown;
}

type Conversions<M extends Methods[keyof Methods]> = Omit<WireOperation<M['input'], M['output']>, 'op' | 'method' | 'mutating'>;

function define<K extends RemoteOperation>(op: K, mutating: boolean, c: Conversions<Methods[K]>): WireOperation {
  return { op, method: pb.ComputeService.method[op], mutating, ...c } as unknown as WireOperation;
}

const noArgs = { toCall: () => ({ args: [] }), toRequest: () => ({}) };
const void_ = { toResponse: () => ({}), fromResponse: () => undefined };
const uuidOnly = { toCall: (r: { uuid: string }) => ({ args: [r.uuid] }), toRequest: (a: readonly unknown[]) => ({ uuid: a[0] as string }) };
/** A message field the caller left out reaches the guard as undefined, which it reports at its path. */
const req = <T, R>(value: T | undefined, fn: (v: T) => R): R => (value === undefined ? (undefined as R) : fn(value));

/** Every RPC of the ComputeService but WatchEvents, by operation name. */
export const WIRE_OPERATIONS: { readonly [K in RemoteOperation]: WireOperation } = {
  getCapabilities: define('getCapabilities', false, {
    ...noArgs,
    toResponse: (caps) => ({ capabilities: capabilitiesToProto(caps as never) }),
    fromResponse: (r) => req(r.capabilities, capabilitiesFromProto),
  }),
  listNodes: define('listNodes', false, {
    ...noArgs,
    toResponse: (nodes) => ({ nodes: (nodes as never[]).map(nodeInfoToProto) }),
    fromResponse: (r) => r.nodes.map(nodeInfoFromProto),
  }),
  getInventory: define('getInventory', false, {
    ...noArgs,
    toResponse: (inv) => ({ inventory: hostInventoryToProto(inv as never) }),
    fromResponse: (r) => req(r.inventory, hostInventoryFromProto),
  }),
  listInstances: define('listInstances', false, {
    ...noArgs,
    toResponse: (list) => ({ instances: (list as never[]).map(instanceSummaryToProto) }),
    fromResponse: (r) => r.instances.map(instanceSummaryFromProto),
  }),
  getInfo: define('getInfo', false, {
    ...uuidOnly,
    toResponse: (info) => ({ info: instanceInfoToProto(info as never) }),
    fromResponse: (r) => req(r.info, instanceInfoFromProto),
  }),
  spawn: define('spawn', true, {
    toCall: (r) => ({ args: [req(r.spec, instanceSpecFromProto)] }),
    toRequest: (a) => ({ spec: instanceSpecToProto(a[0] as never) }),
    ...void_,
  }),
  destroy: define('destroy', true, { ...uuidOnly, ...void_ }),
  powerOff: define('powerOff', true, {
    toCall: (r) => ({ args: [r.uuid], options: r.gracefulTimeoutMs === undefined ? {} : { gracefulTimeoutMs: r.gracefulTimeoutMs } }),
    toRequest: (a, o) => ({ uuid: a[0] as string, gracefulTimeoutMs: o?.['gracefulTimeoutMs'] as number | undefined }),
    ...void_,
  }),
  powerOn: define('powerOn', true, { ...uuidOnly, ...void_ }),
  reboot: define('reboot', true, {
    toCall: (r) => ({ args: [r.uuid, fromProto(rebootTypes, r.type)] }),
    toRequest: (a) => ({ uuid: a[0] as string, type: rebootTypes.toProto(a[1] as never) }),
    ...void_,
  }),
  pause: define('pause', true, { ...uuidOnly, ...void_ }),
  unpause: define('unpause', true, { ...uuidOnly, ...void_ }),
  suspend: define('suspend', true, { ...uuidOnly, ...void_ }),
  resume: define('resume', true, { ...uuidOnly, ...void_ }),
  rescue: define('rescue', true, {
    toCall: (r) => ({ args: [r.uuid, r.spec === undefined ? undefined : rescueSpecFromProto(r.spec)] }),
    toRequest: (a) => ({ uuid: a[0] as string, spec: a[1] === undefined ? undefined : rescueSpecToProto(a[1] as never) }),
    ...void_,
  }),
  unrescue: define('unrescue', true, { ...uuidOnly, ...void_ }),
  rebuild: define('rebuild', true, {
    toCall: (r) => ({ args: [r.uuid, req(r.spec, rebuildSpecFromProto)] }),
    toRequest: (a) => ({ uuid: a[0] as string, spec: rebuildSpecToProto(a[1] as never) }),
    ...void_,
  }),
  snapshot: define('snapshot', true, {
    toCall: (r) => ({ args: [r.uuid, req(r.spec, snapshotSpecFromProto)] }),
    toRequest: (a) => ({ uuid: a[0] as string, spec: snapshotSpecToProto(a[1] as never) }),
    toResponse: (s) => ({ result: snapshotResultToProto(s as never) }),
    fromResponse: (r) => req(r.result, snapshotResultFromProto),
  }),
  deleteSnapshot: define('deleteSnapshot', true, {
    toCall: (r) => ({ args: [r.imageId] }),
    toRequest: (a) => ({ imageId: a[0] as string }),
    ...void_,
  }),
  attachVolume: define('attachVolume', true, {
    toCall: (r) => ({ args: [r.uuid, req(r.attachment, volumeAttachmentFromProto)] }),
    toRequest: (a) => ({ uuid: a[0] as string, attachment: volumeAttachmentToProto(a[1] as never) }),
    ...void_,
  }),
  detachVolume: define('detachVolume', true, {
    toCall: (r) => ({ args: [r.uuid, r.volumeId] }),
    toRequest: (a) => ({ uuid: a[0] as string, volumeId: a[1] as string }),
    ...void_,
  }),
  extendVolume: define('extendVolume', true, {
    toCall: (r) => ({ args: [r.uuid, r.volumeId, r.newSizeGb] }),
    toRequest: (a) => ({ uuid: a[0] as string, volumeId: a[1] as string, newSizeGb: a[2] as number }),
    ...void_,
  }),
  attachInterface: define('attachInterface', true, {
    toCall: (r) => ({ args: [r.uuid, req(r.vif, vifFromProto)] }),
    toRequest: (a) => ({ uuid: a[0] as string, vif: vifToProto(a[1] as never) }),
    ...void_,
  }),
  detachInterface: define('detachInterface', true, {
    toCall: (r) => ({ args: [r.uuid, r.vifId] }),
    toRequest: (a) => ({ uuid: a[0] as string, vifId: a[1] as string }),
    ...void_,
  }),
  getConsoleOutput: define('getConsoleOutput', false, {
    ...uuidOnly,
    toResponse: (c) => ({ output: consoleOutputToProto(c as never) }),
    fromResponse: (r) => req(r.output, consoleOutputFromProto),
  }),
  restoreState: define('restoreState', true, {
    toCall: (r) => ({ args: [r.uuid, fromProto(restorableStates, r.desired)] }),
    toRequest: (a) => ({ uuid: a[0] as string, desired: restorableStates.toProto(a[1] as never) }),
    ...void_,
  }),
  listSnapshots: define('listSnapshots', false, {
    ...noArgs,
    toResponse: (list) => ({ snapshots: (list as never[]).map(snapshotResultToProto) }),
    fromResponse: (r) => r.snapshots.map(snapshotResultFromProto),
  }),
  prepareMigration: define('prepareMigration', true, {
    toCall: (r) => ({ args: [req(r.request, migrationRequestFromProto)] }),
    toRequest: (a) => ({ request: migrationRequestToProto(a[0] as never) }),
    toResponse: (t) => ({ target: migrationTargetToProto(t as never) }),
    fromResponse: (r) => req(r.target, migrationTargetFromProto),
  }),
  migrate: define('migrate', true, {
    toCall: (r) => ({ args: [r.uuid, req(r.target, migrationTargetFromProto)] }),
    toRequest: (a) => ({ uuid: a[0] as string, target: migrationTargetToProto(a[1] as never) }),
    ...void_,
  }),
  finishMigration: define('finishMigration', true, {
    toCall: (r) => ({ args: [r.migrationId] }),
    toRequest: (a) => ({ migrationId: a[0] as string }),
    ...void_,
  }),
  abortMigration: define('abortMigration', true, {
    toCall: (r) => ({ args: [r.migrationId] }),
    toRequest: (a) => ({ migrationId: a[0] as string }),
    ...void_,
  }),
  getMigrationProgress: define('getMigrationProgress', false, {
    ...uuidOnly,
    toResponse: (p) => ({ progress: migrationProgressToProto(p as never) }),
    fromResponse: (r) => req(r.progress, migrationProgressFromProto),
  }),
};

export const REMOTE_OPERATIONS = Object.keys(WIRE_OPERATIONS) as RemoteOperation[];

/** The wire operation of an RPC, by its method name (`GetInfo`). */
export const WIRE_BY_RPC: ReadonlyMap<string, WireOperation> = new Map(Object.values(WIRE_OPERATIONS).map((w) => [w.method.name, w]));
