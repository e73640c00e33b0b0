import { OPERATIONS, OPERATION_NAMES, SnapshotResultSchema, columnOfCall, type InstanceSpecSchema, type ArgumentDescriptor, type ComputeDriver, type GuardedDriver, type OperationName, type TableOperation } from '@nova-common/core';
import type { z } from 'zod';
import type { SimulationHooks } from '../config.js';

/**
 * One concrete call of a command sequence: an operation with fully resolved arguments, each
 * under the name the operation registry gives it (`{ op: 'extendVolume', uuid, volumeId,
 * newSizeGb }`), plus the operation's own option fields (powerOff's `gracefulTimeoutMs`).
 * Calls are plain JSON data, so a sequence is a replay file as it is. The only indirection is
 * an image produced earlier in the same sequence (its id is the driver's choice), written
 * `{ produced: n }`: the n-th snapshot of the sequence.
 */

type Descriptor<K extends OperationName> = (typeof OPERATIONS)[K];
type ArgsOf<K extends OperationName> = Descriptor<K>['args'];

/**
 * Operations a command sequence calls: every operation that takes arguments, but the
 * migration protocol's (they need a second host: the two-host suite in src/migration covers them).
 */
export type SequenceOp = { [K in OperationName]: ArgsOf<K> extends readonly [] ? never : Descriptor<K>['peer'] extends null ? K : never }[OperationName];

/** An image produced earlier in the same sequence: the n-th snapshot it took. */
export interface Produced {
  produced: number;
}

/**
 * `normal`: a spawn the driver should accept. `oversized`: a flavor no node can hold
 * (INSUFFICIENT_RESOURCES expected). `unknownNode`: a node id the host does not have
 * (NODE_NOT_FOUND expected; multi-node drivers only). `undeclaredVifType`: a VIF of a type the
 * driver's capabilities do not declare (INVALID_INPUT naming its type expected; only when the
 * driver declares vifTypes and leaves some type out).
 */
export type SpawnVariant = 'normal' | 'oversized' | 'unknownNode' | 'undeclaredVifType';

/*
 * The registry's types keep each argument's name and schema, and the role only where it is
 * `instance` (core's `arg()` widens the others). So the types below know an image argument by
 * its name and a spec that creates an instance by its schema; test/registry-derived.test.ts
 * checks that this is what the roles say.
 */
/** The name of an image argument (role `image`). */
export type ImageArgName = 'imageId';
/** Whether an argument is a spec creating an instance (role `instanceSpec`). */
export type IsInstanceSpec<D> = D extends { schema: typeof InstanceSpecSchema } ? true : false;

type FieldOf<D> = D extends { name: ImageArgName } ? string | Produced : D extends { schema: infer S extends z.ZodType } ? z.input<S> : never;
type ArgFields<K extends OperationName> = { -readonly [D in ArgsOf<K>[number] as D extends { name: infer N extends string } ? N : never]: FieldOf<D> };
type OptionFields<K extends OperationName> = Descriptor<K>['options'] extends infer O extends z.ZodObject ? z.input<O> : unknown;
/** A call that creates an instance may be a planned failure (see SpawnVariant). */
type Extras<K extends OperationName> = IsInstanceSpec<ArgsOf<K>[number]> extends true ? { variant?: SpawnVariant } : unknown;

/** A call of one operation, its fields named as the registry names its arguments. */
export type CallOf<K extends SequenceOp> = { op: K } & ArgFields<K> & OptionFields<K> & Extras<K>;
export type ContractCall = { [K in SequenceOp]: CallOf<K> }[SequenceOp];
/** What only a guest or a backend can do to an instance (SimulationHooks), as a step of a sequence. */
export type SimulationCall = { op: 'simulateCrash' | 'simulateNoState'; uuid: string };
export type Call = ContractCall | SimulationCall;

/** A call plus how it came to be: `repeat` marks the second of two identical idempotent calls. */
export type SequencedCall = Call & { repeat?: boolean };

/** What the suite needs to know of an operation's argument list, computed once. */
interface Shape {
  readonly args: readonly ArgumentDescriptor[];
  /** Names of the operation's own option fields (powerOff's gracefulTimeoutMs). */
  readonly optionKeys: readonly string[];
  /** The argument naming the instance, or -1. */
  readonly instance: number;
  /** The argument that is a spec of the instance it creates, or -1. */
  readonly spec: number;
}

const SHAPES = new Map<string, Shape>(
  OPERATION_NAMES.map((op) => {
    const args = OPERATIONS[op].args as readonly ArgumentDescriptor[];
    const options = OPERATIONS[op].options as z.ZodObject | null;
    const shape: Shape = {
      args,
      optionKeys: options === null ? [] : Object.keys(options.shape),
      instance: args.findIndex((a) => a.role === 'instance'),
      spec: args.findIndex((a) => a.role === 'instanceSpec'),
    };
    return [op, shape];
  }),
);

export function shapeOf(op: OperationName): Shape {
  return SHAPES.get(op)!;
}

/** Every operation a sequence may call, in registry order. */
export const SEQUENCE_OPS: readonly SequenceOp[] = OPERATION_NAMES.filter((op): op is SequenceOp => OPERATIONS[op].args.length > 0 && OPERATIONS[op].peer === null);

/** Whether an operation returns an image (later calls of the sequence name it `{ produced: n }`). */
export function producesImage(op: string): boolean {
  return (OPERATIONS as Record<string, { result: unknown }>)[op]?.result === SnapshotResultSchema;
}

export function isSimulation(call: Call): call is SimulationCall {
  return call.op === 'simulateCrash' || call.op === 'simulateNoState';
}

/** The contract operation behind a call (simulations are not contract operations). */
export function contractOp(call: Call): SequenceOp | undefined {
  return isSimulation(call) ? undefined : call.op;
}

const fieldsOf = (call: Call): Record<string, unknown> => call as unknown as Record<string, unknown>;

/** The instance a call is about: its instance argument, or the uuid of the spec it creates. */
export function targetOf(call: Call): string | undefined {
  if (isSimulation(call)) return call.uuid;
  const shape = SHAPES.get(call.op)!;
  const fields = fieldsOf(call);
  if (shape.instance >= 0) return fields[shape.args[shape.instance]!.name] as string;
  if (shape.spec >= 0) return (fields[shape.args[shape.spec]!.name] as { uuid: string }).uuid;
  return undefined;
}

/** The image id an image argument stands for, or undefined when the sequence did not produce it. */
function imageIdOf(ref: string | Produced, produced: readonly string[]): string | undefined {
  return typeof ref === 'string' ? ref : produced[ref.produced];
}

/** The first `{ produced: n }` of the call that the sequence has not produced, if any. */
export function unproduced(call: Call, produced: readonly string[]): Produced | undefined {
  if (isSimulation(call)) return undefined;
  const fields = fieldsOf(call);
  for (const a of SHAPES.get(call.op)!.args) {
    if (a.role !== 'image') continue;
    const ref = fields[a.name] as string | Produced;
    if (imageIdOf(ref, produced) === undefined) return ref as Produced;
  }
  return undefined;
}

/**
 * The call with each `{ produced: n }` renumbered by `renumber` (the images of a sequence some
 * of whose calls were removed), or undefined when `renumber` finds no image for one of them.
 */
export function renumberImages<C extends Call>(call: C, renumber: (n: number) => number | undefined): C | undefined {
  if (isSimulation(call)) return call;
  let copy: Record<string, unknown> | undefined;
  const fields = fieldsOf(call);
  for (const a of SHAPES.get(call.op)!.args) {
    if (a.role !== 'image') continue;
    const ref = fields[a.name] as string | Produced;
    if (typeof ref === 'string') continue;
    const n = renumber(ref.produced);
    if (n === undefined) return undefined;
    if (n === ref.produced) continue;
    copy ??= { ...fields };
    copy[a.name] = { produced: n };
  }
  return copy === undefined ? call : (copy as unknown as C);
}

/** The option fields a call carries (undefined when it has none). */
export function callOptions(call: Call): Record<string, unknown> | undefined {
  if (isSimulation(call)) return undefined;
  const keys = SHAPES.get(call.op)!.optionKeys;
  if (keys.length === 0) return undefined;
  const fields = fieldsOf(call);
  let options: Record<string, unknown> | undefined;
  for (const k of keys) if (fields[k] !== undefined) (options ??= {})[k] = fields[k];
  return options;
}

/**
 * The arguments of the call as passed to the driver: the registry's arguments in order, then
 * the options when the call has option fields. `{ produced: n }` becomes the image id the
 * driver returned, or `<snapshot #n>` when it was not produced (in reports of a sequence cut short).
 */
export function callArgs(call: Call, produced: readonly string[] = []): unknown[] {
  if (isSimulation(call)) return [call.uuid];
  const shape = SHAPES.get(call.op)!;
  const fields = fieldsOf(call);
  const args = new Array<unknown>(shape.args.length);
  for (let i = 0; i < shape.args.length; i++) {
    const a = shape.args[i]!;
    const value = fields[a.name];
    if (a.role === 'image') {
      const ref = value as string | Produced;
      args[i] = imageIdOf(ref, produced) ?? `<snapshot #${(ref as Produced).produced}>`;
    } else {
      args[i] = value;
    }
  }
  const options = shape.optionKeys.length > 0 ? callOptions(call) : undefined;
  if (options !== undefined) args.push(options);
  return args;
}

/** The semantics-table column a call answers to (undefined outside the table). */
export function columnOf(call: Call): TableOperation | undefined {
  if (isSimulation(call)) return undefined;
  const columns = OPERATIONS[call.op].columns as readonly TableOperation[];
  return columns.length <= 1 ? columns[0] : columnOfCall(call.op, callArgs(call));
}

/**
 * Perform the call with `args` (callArgs, possibly adapted) on the guarded driver: one generic
 * `driver.call(op, args, options)`; simulations go to the hooks on the raw driver.
 */
export function invoke(driver: GuardedDriver, call: Call, args: readonly unknown[], simulate: SimulationHooks): Promise<unknown> {
  if (isSimulation(call)) {
    const hook = call.op === 'simulateCrash' ? simulate.crash : simulate.noState;
    try {
      // The raw driver, behind no guard: hand it the uuid as the guard would (lower case).
      return Promise.resolve(hook?.(driver.raw as ComputeDriver, call.uuid.toLowerCase()));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  const arity = SHAPES.get(call.op)!.args.length;
  return driver.call(call.op, args.length === arity ? args : args.slice(0, arity), args[arity] as undefined);
}

const short = (u: string): string => u.slice(0, 8);

function describeArgument(a: ArgumentDescriptor, value: unknown): string | undefined {
  switch (a.role) {
    case 'instance':
    case 'id':
      return short(String(value));
    case 'instanceSpec': {
      const spec = value as { uuid: string; powerOn?: boolean };
      return `${short(spec.uuid)}${spec.powerOn === false ? ', powerOn=false' : ''}`;
    }
    case 'image':
      return typeof value === 'string' ? value : `#${(value as Produced).produced}`;
    default: {
      if (typeof value === 'string' || typeof value === 'number') return String(value);
      // An object argument is named by the device it carries, if any (a volume attachment, a vif).
      const o = value as { volumeId?: unknown; id?: unknown } | undefined;
      const id = o?.volumeId ?? o?.id;
      return typeof id === 'string' ? short(id) : undefined;
    }
  }
}

/** One line describing the call, for messages and fast-check's command listing. */
export function describeCall(call: SequencedCall): string {
  const r = call.repeat ? ' (repeat)' : '';
  if (isSimulation(call)) return `${call.op}(${short(call.uuid)})${r}`;
  const fields = fieldsOf(call);
  const parts: string[] = [];
  for (const a of SHAPES.get(call.op)!.args) {
    const text = describeArgument(a, fields[a.name]);
    if (text !== undefined) parts.push(text);
  }
  const variant = fields.variant as SpawnVariant | undefined;
  if (variant !== undefined && variant !== 'normal') parts.push(variant);
  return `${call.op}(${parts.join(', ')})${r}`;
}
