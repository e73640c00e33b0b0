import { SEMANTIC_STATES, TABLE_OPERATIONS, type SemanticState, type TableOperation } from './states.js';
import { MIGRATION_RULES, isMigrationRuleId, type MigrationGeneralRuleId, type MigrationRuleId } from '../migration/semantics.js';

/**
 * The contract's general rules, each a sentence in RFC 2119 terms with a stable id. The
 * per-cell rules of the semantics table (R-<OPERATION>-<STATE>) are generated from SEMANTICS;
 * these are the rules that are not a single cell. The conformance suite cites these ids.
 */
export const RULES = {
  'R-GEN-ORDER':
    'A call MUST be checked in this order: UNSUPPORTED (capability declared missing), INVALID_INPUT (schema), INSTANCE_NOT_FOUND, INVALID_STATE / INSTANCE_EXISTS (semantics table), then device preconditions.',
  'R-GEN-ERRORS': 'An operation MUST reject only with a DriverError whose code its descriptor lists or COMMON_ERRORS holds.',
  'R-GEN-OUTPUT':
    'Every result and every event MUST be what the contract\'s schemas allow for it (the guard checks and refuses it otherwise), and a capability declaration MUST name every capability of the driver\'s contract version.',
  'R-GEN-NOOP': 'An operation that brings an instance to a target state MUST succeed without any change when the instance is already there.',
  'R-GEN-UNSUPPORTED': 'An operation whose capability is declared missing MUST reject with UNSUPPORTED and MUST NOT change anything.',
  'R-INFO-UNKNOWN': 'getInfo of a uuid this driver does not manage MUST reject with INSTANCE_NOT_FOUND (never report NOSTATE).',
  'R-INFO-FRESH': 'getInfo MUST report the state read from the backend, including attached volumes and interfaces, sorted by id.',
  'R-LIST-OWNED': 'listInstances MUST report exactly the instances this driver created and still exist; never anything else on the backend.',
  'R-DESTROY-IDEMPOTENT': 'destroy of a uuid that does not exist MUST succeed.',
  'R-DESTROY-OWNED': 'destroy MUST NOT touch any backend object this driver did not create.',
  'R-SPAWN-ATOMIC': 'When spawn rejects, the instance MUST NOT exist afterwards and nothing made for it may remain on the backend.',
  'R-SPAWN-METADATA': 'The name and metadata given to spawn (or rebuild) MUST be reported unchanged by getInfo and listInstances.',
  'R-SPAWN-DEVICES': 'The volumes and interfaces given to spawn MUST be reported attached by getInfo.',
  'R-SPAWN-PLACEMENT':
    'spawn of a flavor that fits no node (Placement\'s check: minUnit <= amount <= maxUnit, amount a multiple of stepSize, used + amount <= (total - reserved) * allocationRatio) MUST reject with INSUFFICIENT_RESOURCES and change nothing.',
  'R-SPAWN-NODE-UNKNOWN': 'spawn naming a node this host does not manage MUST reject with NODE_NOT_FOUND and change nothing.',
  'R-SPAWN-VIF-TYPE':
    'When the capabilities declare vifTypes, spawn or attachInterface with a VIF of a type not declared MUST reject with INVALID_INPUT naming that VIF\'s type, and change nothing (nothing plugged, nothing made).',
  'R-SPAWN-NODE': 'An instance spawned with a requested node MUST be reported on that node by getInfo and listInstances.',
  'R-INV-USED':
    'Summed over nodes, inventory `used` of each resource class MUST equal the sum of expectedUsage(flavor) over existing instances, once destroyed instances have been released.',
  'R-INV-RELEASE': 'After destroy returns, the resources of the instance MUST be released within capabilities.eventualConsistency.resourceReleaseMs.',
  'R-NODE-AVAILABLE': 'After destroy returns, its node MUST be available again within capabilities.eventualConsistency.nodeAvailableMs.',
  'R-EVENT-TRANSITION':
    'When event.lifecycle is supported, every operation that changes an existing instance\'s power state MUST be followed, within eventDeliveryMs, by an event for that instance carrying the new power state.',
  'R-DEV-VOLUME-ATTACHED': 'attachVolume of a volume already attached to the instance MUST reject with VOLUME_ALREADY_ATTACHED.',
  'R-DEV-VOLUME-NOT-ATTACHED': 'detachVolume or extendVolume of a volume not attached to the instance MUST reject with VOLUME_NOT_ATTACHED.',
  'R-DEV-INTERFACE-ATTACHED': 'attachInterface of an interface id already attached MUST reject with INTERFACE_ALREADY_ATTACHED.',
  'R-DEV-INTERFACE-NOT-ATTACHED': 'detachInterface of an interface id not attached MUST reject with INTERFACE_NOT_ATTACHED.',
  'R-SNAPSHOT-DELETE': 'deleteSnapshot MUST remove the image and MUST succeed when it is already gone.',
  'R-REBUILD-KEEPS': 'rebuild MUST keep the instance\'s uuid, volumes and interfaces, and replace its metadata when new metadata is given.',
  'R-CONSOLE-TEXT': 'getConsoleOutput MUST return text, possibly empty, for every state where the table allows it.',
  'R-BASELINE':
    'A driver is held to the contract of the lowest version its manifest accepts (its baseline): that version\'s semantics table and capabilities. Capabilities added later MAY be absent from its declaration and read as missing.',
  'R-POWER-OFF-PAUSED-FORCED':
    'powerOff of a PAUSED instance MUST power it off without waiting for gracefulTimeoutMs: a paused guest cannot act on a graceful request.',
  'R-POWER-OFF-DEFAULT': 'powerOff without gracefulTimeoutMs MUST wait up to 60 000 ms for the guest (Nova\'s shutdown_timeout) before forcing.',
  'R-REBOOT-PREEMPT':
    'A hard reboot or a destroy of an instance MUST NOT wait behind a soft reboot of it: the soft reboot is cancelled (its signal aborts) and a driver MUST let go of it promptly.',
  'R-CANCEL':
    'A call whose signal aborts MUST reject with CANCELLED or answer as it would have; the driver MUST let go of its work promptly, and MUST leave the instance as before the call or as after it, never in between (a cancelled spawn leaves nothing or the whole instance).',
  'R-RESTORE-STATE':
    'restoreState(uuid, desired) MUST leave the instance in `desired` (a no-op when it is there already) and MUST NOT discard a saved memory image or report one it does not have.',
  'R-SNAPSHOT-LIST': 'listSnapshots MUST report every image snapshot made and deleteSnapshot has not removed, and nothing else.',
  'R-EVENT-OUT-OF-BAND':
    'When event.out-of-band is supported, a power transition no call asked for (guest shutdown, crash, an operator acting on the backend) MUST be followed within eventDeliveryMs by an event with cause `out-of-band` whose powerState getInfo then reports.',
  'R-EVENT-SEQ':
    'Events reach each subscription numbered per instance 1, 2, 3... in delivery order (the guard numbers them); a listener that sees a gap, or whose driver reconnected, resynchronises with listInstances and getInfo.',
  'R-RESTART-SAME':
    'A new driver object made with the same configuration, after the previous one ran cleanupHost, MUST report the same instances (listInstances) in the same states (getInfo), and destroy them: state lives on the backend, not in a driver object.',
  'R-BACKEND-LEAK':
    'Nothing of an instance the driver does not report MAY remain on the backend: a machine there carries an instance listInstances reports, or one whose destroy returned less than the declared release bounds ago.',
  'R-BACKEND-GHOST': 'Every instance listInstances reports MUST exist on the backend.',
} as const;

/** The id of a general rule. */
export type GeneralRuleId = keyof typeof RULES;

/** `rebootSoft` -> `REBOOT-SOFT`: how a table column appears in its cells' rule ids. */
type Kebab<S extends string> = S extends `${infer H}${infer T}` ? (H extends Lowercase<H> ? `${Uppercase<H>}${Kebab<T>}` : `-${H}${Kebab<T>}`) : '';

/** The id of one cell of the semantics table: R-<COLUMN>-<STATE>, e.g. R-PAUSE-SHUTDOWN. */
export type CellRuleId = `R-${Kebab<TableOperation>}-${SemanticState}`;

/** Every rule id of the contract: the general rules, one per table cell, and the migration protocol's (since 1.2.0). */
export type RuleId = GeneralRuleId | CellRuleId | MigrationGeneralRuleId | MigrationRuleId;

/** The rule id of a table cell. */
export function cellRuleId(column: TableOperation, state: SemanticState): CellRuleId {
  return `R-${column.replace(/[A-Z]/g, (c) => `-${c}`).toUpperCase()}-${state}` as CellRuleId;
}

/** Whether `id` names a rule of the contract (general or a table cell). */
export function isRuleId(id: string): id is RuleId {
  if (Object.prototype.hasOwnProperty.call(RULES, id) || Object.prototype.hasOwnProperty.call(MIGRATION_RULES, id)) return true;
  if (isMigrationRuleId(id)) return true;
  for (const column of TABLE_OPERATIONS) for (const state of SEMANTIC_STATES) if (cellRuleId(column, state) === id) return true;
  return false;
}
