import type {
  GuardedDriver,
  InstanceSpecInput,
  RebootType,
  RebuildSpecInput,
  RescueSpecInput,
  VifInput,
  VolumeAttachmentInput,
  ComputeDriver,
  OperationName,
} from '@nova-common/core';
import type { SimulationHooks } from '../config.js';

/**
 * One concrete call of a command sequence: an operation with fully resolved arguments.
 * Calls are plain JSON data, so a sequence is a replay file as it is. The only indirection is
 * `deleteSnapshot` of an image produced earlier in the same sequence (its id is the
 * driver's choice), written `{ produced: n }`: the n-th snapshot of the sequence.
 */
export type Call =
  | { op: 'spawn'; spec: InstanceSpecInput; variant?: SpawnVariant }
  | { op: SimpleOp; uuid: string }
  | { op: 'powerOff'; uuid: string; gracefulTimeoutMs: number }
  | { op: 'reboot'; uuid: string; type: RebootType }
  | { op: 'rescue'; uuid: string; spec: RescueSpecInput }
  | { op: 'rebuild'; uuid: string; spec: RebuildSpecInput }
  | { op: 'snapshot'; uuid: string; name: string }
  | { op: 'deleteSnapshot'; image: { produced: number } | { id: string } }
  | { op: 'attachVolume'; uuid: string; attachment: VolumeAttachmentInput }
  | { op: 'detachVolume'; uuid: string; volumeId: string }
  | { op: 'extendVolume'; uuid: string; volumeId: string; newSizeGb: number }
  | { op: 'attachInterface'; uuid: string; vif: VifInput }
  | { op: 'detachInterface'; uuid: string; vifId: string }
  | { op: 'simulateCrash' | 'simulateNoState'; uuid: string };

/** A call plus how it came to be: `repeat` marks the second of two identical idempotent calls. */
export type SequencedCall = Call & { repeat?: boolean };

export type SimpleOp = 'destroy' | 'getInfo' | 'powerOn' | 'pause' | 'unpause' | 'suspend' | 'resume' | 'unrescue' | 'getConsoleOutput';

/**
 * `normal`: a spawn the driver should accept. `oversized`: a flavor no node can hold
 * (INSUFFICIENT_RESOURCES expected). `unknownNode`: a node id the host does not have
 * (NODE_NOT_FOUND expected; multi-node drivers only).
 */
export type SpawnVariant = 'normal' | 'oversized' | 'unknownNode';

export type CallOp = Call['op'];

/** The contract operation behind a call (simulations are not contract operations). */
export function contractOp(call: Call): OperationName | undefined {
  return call.op === 'simulateCrash' || call.op === 'simulateNoState' ? undefined : call.op;
}

/** The instance a call is about, if any. */
export function targetOf(call: Call): string | undefined {
  if (call.op === 'spawn') return call.spec.uuid;
  if (call.op === 'deleteSnapshot') return undefined;
  return call.uuid;
}

/** Resolve `{ produced: n }` to the image id the driver returned for the n-th snapshot. */
export function snapshotImageId(call: Extract<Call, { op: 'deleteSnapshot' }>, produced: readonly string[]): string {
  if ('id' in call.image) return call.image.id;
  const id = produced[call.image.produced];
  if (id === undefined) throw new Error(`deleteSnapshot refers to snapshot #${call.image.produced}, which was not produced`);
  return id;
}

/** The arguments of the call as passed to the driver (for reports and programs). */
export function callArgs(call: Call, produced: readonly string[] = []): unknown[] {
  switch (call.op) {
    case 'spawn':
      return [call.spec];
    case 'powerOff':
      return [call.uuid, { gracefulTimeoutMs: call.gracefulTimeoutMs }];
    case 'reboot':
      return [call.uuid, call.type];
    case 'rescue':
    case 'rebuild':
      return [call.uuid, call.spec];
    case 'snapshot':
      return [call.uuid, { name: call.name }];
    case 'deleteSnapshot':
      return ['id' in call.image ? call.image.id : (produced[call.image.produced] ?? `<snapshot #${call.image.produced}>`)];
    case 'attachVolume':
      return [call.uuid, call.attachment];
    case 'detachVolume':
      return [call.uuid, call.volumeId];
    case 'extendVolume':
      return [call.uuid, call.volumeId, call.newSizeGb];
    case 'attachInterface':
      return [call.uuid, call.vif];
    case 'detachInterface':
      return [call.uuid, call.vifId];
    default:
      return [call.uuid];
  }
}

/** Perform the call on the guarded driver (simulations on the raw one). */
export async function invoke(
  driver: GuardedDriver,
  call: Call,
  produced: readonly string[],
  simulate: SimulationHooks,
  spec: InstanceSpecInput | undefined,
): Promise<unknown> {
  switch (call.op) {
    case 'spawn':
      return driver.spawn(spec ?? call.spec);
    case 'destroy':
      return driver.destroy(call.uuid);
    case 'getInfo':
      return driver.getInfo(call.uuid);
    case 'powerOff':
      return driver.powerOff(call.uuid, { gracefulTimeoutMs: call.gracefulTimeoutMs });
    case 'powerOn':
      return driver.powerOn(call.uuid);
    case 'reboot':
      return driver.reboot(call.uuid, call.type);
    case 'pause':
      return driver.pause(call.uuid);
    case 'unpause':
      return driver.unpause(call.uuid);
    case 'suspend':
      return driver.suspend(call.uuid);
    case 'resume':
      return driver.resume(call.uuid);
    case 'rescue':
      return driver.rescue(call.uuid, call.spec);
    case 'unrescue':
      return driver.unrescue(call.uuid);
    case 'rebuild':
      return driver.rebuild(call.uuid, call.spec);
    case 'snapshot':
      return driver.snapshot(call.uuid, { name: call.name });
    case 'deleteSnapshot':
      return driver.deleteSnapshot(snapshotImageId(call, produced));
    case 'attachVolume':
      return driver.attachVolume(call.uuid, call.attachment);
    case 'detachVolume':
      return driver.detachVolume(call.uuid, call.volumeId);
    case 'extendVolume':
      return driver.extendVolume(call.uuid, call.volumeId, call.newSizeGb);
    case 'attachInterface':
      return driver.attachInterface(call.uuid, call.vif);
    case 'detachInterface':
      return driver.detachInterface(call.uuid, call.vifId);
    case 'getConsoleOutput':
      return driver.getConsoleOutput(call.uuid);
    case 'simulateCrash':
      return simulate.crash?.(driver.raw as ComputeDriver, call.uuid);
    case 'simulateNoState':
      return simulate.noState?.(driver.raw as ComputeDriver, call.uuid);
  }
}

/** One line describing the call, for fast-check's command listing. */
export function describeCall(call: SequencedCall): string {
  const id = (u: string): string => u.slice(0, 8);
  const r = call.repeat ? ' (repeat)' : '';
  switch (call.op) {
    case 'spawn':
      return `spawn(${id(call.spec.uuid)}${call.variant && call.variant !== 'normal' ? `, ${call.variant}` : ''}${call.spec.powerOn === false ? ', powerOn=false' : ''})`;
    case 'reboot':
      return `reboot(${id(call.uuid)}, ${call.type})${r}`;
    case 'deleteSnapshot':
      return `deleteSnapshot(${'id' in call.image ? call.image.id : `#${call.image.produced}`})${r}`;
    case 'attachVolume':
      return `attachVolume(${id(call.uuid)}, ${id(call.attachment.volumeId)})${r}`;
    case 'detachVolume':
    case 'extendVolume':
      return `${call.op}(${id(call.uuid)}, ${id(call.volumeId)}${call.op === 'extendVolume' ? `, ${call.newSizeGb}` : ''})${r}`;
    case 'attachInterface':
      return `attachInterface(${id(call.uuid)}, ${id(call.vif.id)})${r}`;
    case 'detachInterface':
      return `detachInterface(${id(call.uuid)}, ${id(call.vifId)})${r}`;
    default:
      return `${call.op}(${id(call.uuid)})${r}`;
  }
}
