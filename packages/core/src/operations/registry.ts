import { z } from 'zod';
import type { CapabilityId } from '../capabilities/catalog.js';
import { DriverCapabilitiesSchema } from '../capabilities/driver-capabilities.js';
import type { CallOptions, ComputeDriver } from '../driver/compute-driver.js';
import type { ErrorCode } from '../errors/codes.js';
import { VolumeAttachmentSchema } from '../schemas/block-device-info.js';
import { IdentifierSchema, UuidSchema } from '../schemas/common.js';
import { InstanceInfoSchema, InstanceSummarySchema } from '../schemas/instance-info.js';
import { InstanceSpecSchema, RebootTypeSchema, RebuildSpecSchema, RescueSpecSchema, SnapshotSpecSchema } from '../schemas/instance-spec.js';
import { HostInventorySchema, NodeInfoSchema } from '../schemas/inventory.js';
import { VifSchema } from '../schemas/network-info.js';
import { ConsoleOutputSchema, SnapshotResultSchema } from '../schemas/outputs.js';
import { RestorableStateSchema } from '../schemas/power-state.js';
import { MigrationProgressSchema, MigrationRequestSchema, MigrationTargetSchema } from '../schemas/migration.js';
import { lowerRequestIds, lowerSpecIds, lowerTargetIds, lowerVifId, lowerVolumeId } from './canonical-ids.js';
import { NO_COLUMN_CAPABILITIES, type ArgumentDescriptor, type OperationDescriptor } from './descriptor.js';

export type { ArgumentDescriptor, OperationDescriptor } from './descriptor.js';
export { NO_COLUMN_CAPABILITIES } from './descriptor.js';

/** Errors any operation may raise, in addition to its own list. */
export const COMMON_ERRORS: readonly ErrorCode[] = ['BACKEND_UNAVAILABLE', 'TIMEOUT', 'CANCELLED', 'CONFLICT', 'INTERNAL'];

const INSTANCE_OP_ERRORS = ['INVALID_INPUT', 'UNSUPPORTED', 'INSTANCE_NOT_FOUND', 'INVALID_STATE'] as const satisfies readonly ErrorCode[];

const SHORT = 30_000;
const LONG = 600_000;

const uuidArg = { name: 'uuid', schema: UuidSchema, role: 'instance' } as const;
const arg = <N extends string, S extends z.ZodType>(name: N, schema: S, role: ArgumentDescriptor['role'] = 'value', canonicalise?: (parsed: z.output<S>) => void) =>
  ({ name, schema, role, ...(canonicalise ? { canonicalise } : {}) }) as const;

/** What a migration's kind and place need besides operation.migrate. */
const migrationCapabilities = (m: { kind?: unknown; sameHost?: unknown } | undefined): CapabilityId[] => {
  const out: CapabilityId[] = [];
  if (m?.kind === 'LIVE') out.push('operation.live-migrate');
  if (m?.sameHost === true) out.push('operation.resize-in-place');
  return out;
};
const MIGRATION_ERRORS = ['INVALID_INPUT', 'UNSUPPORTED'] as const satisfies readonly ErrorCode[];

const NewSizeSchema = z.number().int().min(1).max(1024 * 1024);
/** R-POWER-OFF-DEFAULT: without a graceful timeout, 60 s (Nova's shutdown_timeout) for every driver. */
const PowerOffOptionsSchema = z.object({ gracefulTimeoutMs: z.number().int().min(0).max(3_600_000).default(60_000) });

const DEFAULTS = {
  args: [],
  options: null,
  result: null,
  mandatory: false,
  idempotent: true,
  defaultTimeoutMs: SHORT,
  columns: [],
  columnCapabilities: NO_COLUMN_CAPABILITIES,
  since: '1.0.0',
  preemption: null,
  peer: null,
  argumentCapabilities: null,
} as const;

/** An entry: the fields given, the defaults for the rest. */
function op<const D extends Partial<OperationDescriptor> & Pick<OperationDescriptor, 'capability' | 'errors'>>(d: D): Omit<typeof DEFAULTS, keyof D> & D {
  return { ...DEFAULTS, ...d } as Omit<typeof DEFAULTS, keyof D> & D;
}

/**
 * THE operation registry: every operation of ComputeDriver, as data. The guard's methods,
 * the GuardedDriver type, the semantics table's column mapping, the conformance suite's call
 * table and the CLI's listings are all derived from it. Adding an operation means one entry
 * here, the interface method, its table column(s), and each driver's method.
 */
export const OPERATIONS = {
  initHost: op({ capability: null, mandatory: true, errors: ['INVALID_INPUT'], defaultTimeoutMs: LONG }),
  cleanupHost: op({ capability: null, mandatory: true, errors: [] }),
  getCapabilities: op({ capability: null, mandatory: true, errors: [], result: DriverCapabilitiesSchema }),
  listNodes: op({ capability: null, mandatory: true, errors: [], result: z.array(NodeInfoSchema) }),
  getInventory: op({ capability: null, mandatory: true, errors: [], result: HostInventorySchema }),
  listInstances: op({ capability: 'operation.get-guest-info', mandatory: true, errors: [], result: z.array(InstanceSummarySchema) }),
  spawn: op({
    capability: 'operation.launch',
    mandatory: true,
    idempotent: false,
    defaultTimeoutMs: LONG,
    errors: ['INVALID_INPUT', 'INSTANCE_EXISTS', 'NODE_NOT_FOUND', 'NODE_UNAVAILABLE', 'INSUFFICIENT_RESOURCES'],
    args: [arg('spec', InstanceSpecSchema, 'instanceSpec', lowerSpecIds)],
    columns: ['spawn'],
  }),
  destroy: op({
    capability: 'operation.terminate',
    mandatory: true,
    defaultTimeoutMs: LONG,
    errors: ['INVALID_INPUT'],
    args: [uuidArg],
    columns: ['destroy'],
    preemption: { preemptible: (_args: readonly unknown[]) => false, preempts: (_args: readonly unknown[]) => true },
  }),
  getInfo: op({
    capability: 'operation.get-guest-info',
    mandatory: true,
    errors: ['INVALID_INPUT', 'INSTANCE_NOT_FOUND'],
    args: [uuidArg],
    result: InstanceInfoSchema,
    columns: ['getInfo'],
  }),
  powerOff: op({
    capability: 'operation.power-on-off',
    defaultTimeoutMs: LONG,
    errors: INSTANCE_OP_ERRORS,
    args: [uuidArg],
    options: PowerOffOptionsSchema,
    columns: ['powerOff'],
  }),
  powerOn: op({ capability: 'operation.power-on-off', defaultTimeoutMs: LONG, errors: INSTANCE_OP_ERRORS, args: [uuidArg], columns: ['powerOn'] }),
  reboot: op({
    capability: 'operation.reboot',
    idempotent: false,
    defaultTimeoutMs: LONG,
    errors: INSTANCE_OP_ERRORS,
    args: [uuidArg, arg('type', RebootTypeSchema)],
    columns: ['rebootSoft', 'rebootHard'],
    preemption: { preemptible: (args: readonly unknown[]) => args[1] === 'SOFT', preempts: (args: readonly unknown[]) => args[1] === 'HARD' },
  }),
  pause: op({ capability: 'operation.pause', errors: INSTANCE_OP_ERRORS, args: [uuidArg], columns: ['pause'] }),
  unpause: op({ capability: 'operation.unpause', errors: INSTANCE_OP_ERRORS, args: [uuidArg], columns: ['unpause'] }),
  suspend: op({ capability: 'operation.suspend', defaultTimeoutMs: LONG, errors: INSTANCE_OP_ERRORS, args: [uuidArg], columns: ['suspend'] }),
  resume: op({ capability: 'operation.resume', defaultTimeoutMs: LONG, errors: INSTANCE_OP_ERRORS, args: [uuidArg], columns: ['resume'] }),
  rescue: op({
    capability: 'operation.rescue',
    defaultTimeoutMs: LONG,
    errors: INSTANCE_OP_ERRORS,
    args: [uuidArg, arg('spec', RescueSpecSchema.default({}))],
    columns: ['rescue'],
  }),
  unrescue: op({ capability: 'operation.rescue', defaultTimeoutMs: LONG, errors: INSTANCE_OP_ERRORS, args: [uuidArg], columns: ['unrescue'] }),
  rebuild: op({
    capability: 'operation.rebuild',
    idempotent: false,
    defaultTimeoutMs: LONG,
    errors: INSTANCE_OP_ERRORS,
    args: [uuidArg, arg('spec', RebuildSpecSchema)],
    columns: ['rebuild'],
  }),
  snapshot: op({
    capability: 'operation.snapshot',
    idempotent: false,
    defaultTimeoutMs: LONG,
    errors: INSTANCE_OP_ERRORS,
    args: [uuidArg, arg('spec', SnapshotSpecSchema)],
    result: SnapshotResultSchema,
    columns: ['snapshot'],
  }),
  deleteSnapshot: op({ capability: 'operation.snapshot', errors: ['INVALID_INPUT', 'UNSUPPORTED'], args: [arg('imageId', IdentifierSchema, 'image')] }),
  attachVolume: op({
    capability: 'operation.attach-volume',
    idempotent: false,
    defaultTimeoutMs: LONG,
    errors: [...INSTANCE_OP_ERRORS, 'VOLUME_ALREADY_ATTACHED'],
    args: [uuidArg, arg('attachment', VolumeAttachmentSchema, 'value', lowerVolumeId)],
    columns: ['attachVolume'],
  }),
  detachVolume: op({
    capability: 'operation.detach-volume',
    idempotent: false,
    defaultTimeoutMs: LONG,
    errors: [...INSTANCE_OP_ERRORS, 'VOLUME_NOT_ATTACHED'],
    args: [uuidArg, arg('volumeId', UuidSchema, 'id')],
    columns: ['detachVolume'],
  }),
  extendVolume: op({
    capability: 'operation.extend-volume',
    errors: [...INSTANCE_OP_ERRORS, 'VOLUME_NOT_ATTACHED'],
    args: [uuidArg, arg('volumeId', UuidSchema, 'id'), arg('newSizeGb', NewSizeSchema)],
    columns: ['extendVolume'],
  }),
  attachInterface: op({
    capability: 'operation.attach-interface',
    idempotent: false,
    defaultTimeoutMs: LONG,
    errors: [...INSTANCE_OP_ERRORS, 'INTERFACE_ALREADY_ATTACHED'],
    args: [uuidArg, arg('vif', VifSchema, 'value', lowerVifId)],
    columns: ['attachInterface'],
  }),
  detachInterface: op({
    capability: 'operation.detach-interface',
    idempotent: false,
    defaultTimeoutMs: LONG,
    errors: [...INSTANCE_OP_ERRORS, 'INTERFACE_NOT_ATTACHED'],
    args: [uuidArg, arg('vifId', UuidSchema, 'id')],
    columns: ['detachInterface'],
  }),
  getConsoleOutput: op({
    capability: 'console.serial.log',
    errors: INSTANCE_OP_ERRORS,
    args: [uuidArg],
    result: ConsoleOutputSchema,
    columns: ['getConsoleOutput'],
  }),
  restoreState: op({
    capability: 'operation.restore-state',
    defaultTimeoutMs: LONG,
    errors: INSTANCE_OP_ERRORS,
    args: [uuidArg, arg('desired', RestorableStateSchema)],
    columns: ['restoreStateRunning', 'restoreStateShutdown', 'restoreStatePaused', 'restoreStateSuspended'],
    columnCapabilities: { restoreStatePaused: 'operation.pause', restoreStateSuspended: 'operation.suspend' },
    since: '1.1.0',
  }),
  listSnapshots: op({
    capability: 'operation.list-snapshots',
    errors: ['UNSUPPORTED'],
    result: z.array(SnapshotResultSchema),
    since: '1.1.0',
  }),
  prepareMigration: op({
    capability: 'operation.migrate',
    idempotent: true,
    errors: [...MIGRATION_ERRORS, 'INSTANCE_EXISTS', 'INSTANCE_NOT_FOUND', 'NODE_NOT_FOUND', 'NODE_UNAVAILABLE', 'INSUFFICIENT_RESOURCES'],
    args: [
      {
        name: 'request',
        schema: MigrationRequestSchema,
        role: 'value',
        canonicalise: lowerRequestIds as (p: never) => void,
        queueKey: ((r: { instance: { uuid: string } }) => r.instance.uuid) as (p: never) => string,
      },
    ],
    result: MigrationTargetSchema,
    since: '1.2.0',
    peer: 'destination',
    argumentCapabilities: (args: readonly unknown[]) => migrationCapabilities(args[0] as { kind?: unknown; sameHost?: unknown } | undefined),
  }),
  migrate: op({
    capability: 'operation.migrate',
    idempotent: false,
    defaultTimeoutMs: LONG,
    errors: [...INSTANCE_OP_ERRORS, 'INSUFFICIENT_RESOURCES', 'INSTANCE_EXISTS'],
    args: [uuidArg, arg('target', MigrationTargetSchema, 'value', lowerTargetIds)],
    since: '1.2.0',
    peer: 'source',
    argumentCapabilities: (args: readonly unknown[]) => migrationCapabilities(args[1] as { kind?: unknown; sameHost?: unknown } | undefined),
  }),
  finishMigration: op({
    capability: 'operation.migrate',
    defaultTimeoutMs: LONG,
    errors: [...MIGRATION_ERRORS, 'INSTANCE_NOT_FOUND'],
    args: [arg('migrationId', UuidSchema, 'id')],
    since: '1.2.0',
    peer: 'destination',
  }),
  abortMigration: op({
    capability: 'operation.migrate',
    defaultTimeoutMs: LONG,
    errors: [...MIGRATION_ERRORS, 'INVALID_STATE'],
    args: [arg('migrationId', UuidSchema, 'id')],
    since: '1.2.0',
    peer: 'destination',
  }),
  getMigrationProgress: op({
    capability: 'operation.migrate',
    errors: ['INVALID_INPUT', 'UNSUPPORTED', 'INSTANCE_NOT_FOUND'],
    // An `id`, not the instance: the read must not wait in the instance's queue behind the migrate it watches.
    args: [arg('uuid', UuidSchema, 'id')],
    result: MigrationProgressSchema,
    since: '1.2.0',
    peer: 'source',
  }),
} as const satisfies Record<string, OperationDescriptor>;

export type OperationName = keyof typeof OPERATIONS;
export const OPERATION_NAMES = Object.keys(OPERATIONS) as OperationName[];

/** The columns of the semantics table: each instance operation, with reboot split by type. */
export type TableOperation = { [K in OperationName]: (typeof OPERATIONS)[K]['columns'][number] }[OperationName];
/** The columns in registry order. */
export const TABLE_OPERATIONS: readonly TableOperation[] = OPERATION_NAMES.flatMap((name) => OPERATIONS[name].columns as readonly TableOperation[]);

// ---- compile-time agreement with ComputeDriver --------------------------------------------

/** The interface's operations: every method but the event subscription. */
type InterfaceOperation = Exclude<keyof ComputeDriver, 'subscribeEvents'>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Fails to compile when an operation is in the registry and not the interface, or the reverse. */
const REGISTRY_MATCHES_INTERFACE: Same<OperationName, InterfaceOperation> = true;
void REGISTRY_MATCHES_INTERFACE;

type ArgsOf<K extends OperationName> = (typeof OPERATIONS)[K]['args'];
type OutputsOf<A extends readonly ArgumentDescriptor[]> = { -readonly [I in keyof A]: A[I] extends { schema: infer S extends z.ZodType } ? z.output<S> : never };
type InputsOf<A extends readonly ArgumentDescriptor[]> = { -readonly [I in keyof A]: A[I] extends { schema: infer S extends z.ZodType } ? z.input<S> : never };
/** What the driver receives: the schemas' outputs, in order. */
export type ParsedArgs<K extends OperationName> = OutputsOf<ArgsOf<K>>;
/** What a caller passes: the schemas' inputs, in order (defaults not yet applied). */
export type ArgInputs<K extends OperationName> = InputsOf<ArgsOf<K>>;
/** The options a call takes: CallOptions plus the operation's own fields. */
export type OptionsOf<K extends OperationName> = (typeof OPERATIONS)[K]['options'] extends z.ZodObject
  ? CallOptions & z.input<NonNullable<(typeof OPERATIONS)[K]['options']>>
  : CallOptions;
/** What the operation resolves to. */
export type ResultOf<K extends OperationName> = (typeof OPERATIONS)[K]['result'] extends z.ZodType
  ? z.output<NonNullable<(typeof OPERATIONS)[K]['result']>>
  : void;

/** The driver method each registry entry describes, as the registry says it must look. */
type RegistryMethod<K extends OperationName> = (...args: [...ParsedArgs<K>, options?: OptionsOf<K>]) => Promise<ResultOf<K>>;
type InterfaceMethod<K extends OperationName> = NonNullable<ComputeDriver[K]>;
type Agreement = { [K in OperationName]: Same<Parameters<RegistryMethod<K>>, Parameters<InterfaceMethod<K>>> extends true
  ? Same<Awaited<ReturnType<InterfaceMethod<K>>>, ResultOf<K>>
  : false };
type AgreesWithInterface = false extends Agreement[OperationName] ? false : true;
/** Fails to compile when an entry's arguments or result differ from the interface method's. */
const REGISTRY_TYPES_MATCH_INTERFACE: AgreesWithInterface = true;
void REGISTRY_TYPES_MATCH_INTERFACE;

// ---- derived views ---------------------------------------------------------------------

/** Whether `code` is an error the operation is allowed to raise. */
export function isAllowedError(op: OperationName, code: ErrorCode): boolean {
  return COMMON_ERRORS.includes(code) || (OPERATIONS[op].errors as readonly ErrorCode[]).includes(code);
}

const COLUMN_OWNER = new Map<TableOperation, OperationName>();
for (const name of OPERATION_NAMES) for (const column of OPERATIONS[name].columns as readonly TableOperation[]) COLUMN_OWNER.set(column, name);

/** The operation a column of the semantics table belongs to (rebootSoft -> reboot). */
export function operationOfColumn(column: TableOperation): OperationName {
  const owner = COLUMN_OWNER.get(column);
  if (owner === undefined) throw new Error(`no operation answers to the table column ${column}`);
  return owner;
}

/**
 * The column a concrete call answers to: the operation's only column, or for reboot the one
 * of its type. Undefined for operations outside the table (host calls, deleteSnapshot).
 */
export function columnOfCall(op: OperationName, args: readonly unknown[]): TableOperation | undefined {
  const columns = OPERATIONS[op].columns as readonly TableOperation[];
  if (columns.length <= 1) return columns[0];
  // reboot: the columns are named after the type argument (rebootSoft, rebootHard).
  const type = String(args[1]).toLowerCase();
  return columns.find((c) => c.toLowerCase().endsWith(type));
}

/**
 * The capabilities a call needs: its operation's, and its column's when the column needs one
 * more (restoreState to PAUSED or SUSPENDED). `args` are the call's arguments, parsed or not.
 */
export function capabilitiesOfCall(op: OperationName, args: readonly unknown[]): CapabilityId[] {
  const descriptor: OperationDescriptor = OPERATIONS[op];
  const needed: CapabilityId[] = descriptor.capability === null ? [] : [descriptor.capability];
  const extra = capabilityOfColumn(op, columnOfCall(op, args));
  if (extra !== undefined) needed.push(extra);
  if (descriptor.argumentCapabilities !== null) needed.push(...descriptor.argumentCapabilities(args));
  return needed;
}

/** The capability a table column needs besides its operation's (restoreState to PAUSED or SUSPENDED), if any. */
export function capabilityOfColumn(op: OperationName, column: string | undefined): CapabilityId | undefined {
  const needs: Readonly<Record<string, CapabilityId>> = OPERATIONS[op].columnCapabilities;
  return needs === NO_COLUMN_CAPABILITIES || column === undefined ? undefined : needs[column];
}

/** The argument that names the instance a call is about, if the operation has one. */
export function instanceArgIndex(op: OperationName): number {
  return (OPERATIONS[op].args as readonly ArgumentDescriptor[]).findIndex((a) => a.role === 'instance');
}

/** Operations that need a second host (the migration protocol): left out of single-host runs. */
export function isPeerOperation(op: OperationName): boolean {
  return OPERATIONS[op].peer !== null;
}

/** The operations a capability gates (what the capability catalogue links to). */
export function operationsOfCapability(capability: CapabilityId): OperationName[] {
  return OPERATION_NAMES.filter((name) => OPERATIONS[name].capability === capability);
}
