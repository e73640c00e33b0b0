import type { InstanceSpecInput, OutcomeContext, RuleId } from '@nova-common/core';
import { isSimulation, shapeOf, type Call, type CallOf, type SequenceOp } from '../commands/call.js';
import type { Expectation, ModelInstance } from './model.js';

/**
 * The model rules that belong to one operation: what a successful call changes beyond the
 * power state the table gives, and which device a call's precondition is about. Everything
 * else the model derives from the registry and core's oracle. An operation is named here only
 * when it has such a rule of its own.
 */

const key = (id: string): string => id.toLowerCase();

interface DeviceRule<K extends SequenceOp> {
  /** The kind of device the call names, for the table's device preconditions. */
  kind: 'volume' | 'interface';
  /** The device's id. */
  id(call: CallOf<K>): string;
  /** What the call does to the instance's devices once it succeeded. */
  apply(inst: ModelInstance, call: CallOf<K>): void;
  /**
   * The argument field the call is refused for (INVALID_INPUT) once the table and the device
   * precondition allow it, given what the model knows of the device; undefined when accepted.
   */
  refuse?(inst: ModelInstance, call: CallOf<K>): string | undefined;
}

const DEVICE_RULES: { [K in SequenceOp]?: DeviceRule<K> } = {
  attachVolume: { kind: 'volume', id: (c) => c.attachment.volumeId, apply: (inst, c) => void inst.volumes.set(key(c.attachment.volumeId), c.attachment.sizeGb) },
  detachVolume: { kind: 'volume', id: (c) => c.volumeId, apply: (inst, c) => void inst.volumes.delete(key(c.volumeId)) },
  // R-INFO-FRESH: getInfo reports the new size. Volumes only grow: a size below the one the
  // model knows is INVALID_INPUT naming newSizeGb (checked after the state and the device,
  // since it depends on the attached volume); the same size is accepted and changes nothing.
  extendVolume: {
    kind: 'volume',
    id: (c) => c.volumeId,
    apply: (inst, c) => void inst.volumes.set(key(c.volumeId), c.newSizeGb),
    refuse: (inst, c) => {
      const size = inst.volumes.get(key(c.volumeId));
      return size !== undefined && c.newSizeGb < size ? 'newSizeGb' : undefined;
    },
  },
  attachInterface: { kind: 'interface', id: (c) => c.vif.id, apply: (inst, c) => void inst.interfaces.set(key(c.vif.id), c.vif.address.toLowerCase()) },
  detachInterface: { kind: 'interface', id: (c) => c.vifId, apply: (inst, c) => void inst.interfaces.delete(key(c.vifId)) },
};

const deviceRuleOf = (op: SequenceOp): DeviceRule<SequenceOp> | undefined => (DEVICE_RULES as Record<string, DeviceRule<SequenceOp> | undefined>)[op];

const NO_DEVICE: OutcomeContext = Object.freeze({});

/** What the oracle needs beyond the state: whether the device the call names is attached now. */
export function deviceContext(inst: ModelInstance | undefined, call: Call): OutcomeContext {
  if (isSimulation(call)) return NO_DEVICE;
  const rule = deviceRuleOf(call.op);
  if (rule === undefined) return NO_DEVICE;
  const id = key(rule.id(call as CallOf<SequenceOp>));
  return rule.kind === 'volume' ? { volumeAttached: inst?.volumes.has(id) ?? false } : { interfaceAttached: inst?.interfaces.has(id) ?? false };
}

/** The argument field an existing instance's device refuses the call for (see DeviceRule.refuse). */
export function refusedField(inst: ModelInstance, call: Call): string | undefined {
  if (isSimulation(call)) return undefined;
  return deviceRuleOf(call.op)?.refuse?.(inst, call as CallOf<SequenceOp>);
}

/** A successful call's own change to an existing instance. */
export function applyEffect(inst: ModelInstance, call: Call): void {
  if (isSimulation(call)) return;
  // R-REBUILD-KEEPS: rebuild keeps uuid and devices, and new metadata replaces the old.
  if (call.op === 'rebuild') {
    if (call.spec.metadata !== undefined) inst.metadata = { ...call.spec.metadata };
    return;
  }
  deviceRuleOf(call.op)?.apply(inst, call as CallOf<SequenceOp>);
}

/** Images of the sequence: snapshot adds one (by index, as `{ produced: n }` names it), deleteSnapshot marks it gone. */
export function applyImages(snapshots: { name: string; deleted: boolean }[], call: Call): void {
  if (call.op === 'snapshot') snapshots.push({ name: call.spec.name, deleted: false });
  else if (call.op === 'deleteSnapshot' && typeof call.imageId !== 'string') {
    const s = snapshots[call.imageId.produced];
    if (s) s.deleted = true;
  }
}

/** Rules of the operations outside the semantics table (no instance state to look up). */
const OUTSIDE_TABLE: { [K in SequenceOp]?: RuleId } = {
  // R-SNAPSHOT-DELETE: succeeds whether or not the image exists.
  deleteSnapshot: 'R-SNAPSHOT-DELETE',
};

export function outsideTable(call: Call): Expectation {
  const rule = isSimulation(call) ? undefined : OUTSIDE_TABLE[call.op];
  if (rule === undefined) throw new Error(`the model has no rule for ${call.op}, which is outside the semantics table`);
  return { ok: true, to: undefined, noop: true, rule };
}

/** The spec of the instance a call creates, if it creates one. */
export function specOf(call: Call): InstanceSpecInput | undefined {
  if (isSimulation(call)) return undefined;
  const shape = shapeOf(call.op);
  return shape.spec < 0 ? undefined : ((call as unknown as Record<string, unknown>)[shape.args[shape.spec]!.name] as InstanceSpecInput);
}
