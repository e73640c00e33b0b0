import type { ErrorCode } from '../errors/codes.js';
import { SEMANTIC_STATES, TABLE_OPERATIONS, type SemanticState, type TableOperation } from './states.js';
import { cellRuleId, type CellRuleId } from './rules.js';
import { compareVersions } from '../capabilities/catalog.js';

/**
 * One cell: either the operation succeeds and leaves the instance in `to` (`noop` when
 * nothing changes because it is already there), or it raises exactly `error`.
 * `rule` is the stable id of the rule the cell states, cited by the conformance suite.
 */
export type Cell =
  | { readonly kind: 'ok'; readonly to: SemanticState; readonly noop: boolean; readonly rule: CellRuleId }
  | { readonly kind: 'error'; readonly error: ErrorCode; readonly rule: CellRuleId };

export type SemanticsTable = { readonly [S in SemanticState]: { readonly [O in TableOperation]: Cell } };

/** The rows of the table for an instance that exists. */
export type ExistingState = Exclude<SemanticState, 'ABSENT'>;
const EXISTING = SEMANTIC_STATES.filter((s): s is ExistingState => s !== 'ABSENT');

/**
 * Per operation: the states it accepts and where it leads from each. A state not listed
 * raises INVALID_STATE; ABSENT raises INSTANCE_NOT_FOUND unless listed.
 * `'same'` means the state does not change (an observation or a device operation).
 */
const TRANSITIONS: { readonly [O in TableOperation]: Partial<Record<SemanticState, SemanticState | 'same'>> } = {
  spawn: { ABSENT: 'RUNNING' },
  destroy: { ABSENT: 'ABSENT', RUNNING: 'ABSENT', PAUSED: 'ABSENT', SHUTDOWN: 'ABSENT', SUSPENDED: 'ABSENT', CRASHED: 'ABSENT', NOSTATE: 'ABSENT', RESCUE: 'ABSENT' },
  getInfo: { RUNNING: 'same', PAUSED: 'same', SHUTDOWN: 'same', SUSPENDED: 'same', CRASHED: 'same', NOSTATE: 'same', RESCUE: 'same' },
  powerOff: { RUNNING: 'SHUTDOWN', PAUSED: 'SHUTDOWN', SHUTDOWN: 'SHUTDOWN', CRASHED: 'SHUTDOWN', NOSTATE: 'SHUTDOWN' },
  powerOn: { RUNNING: 'RUNNING', SHUTDOWN: 'RUNNING', CRASHED: 'RUNNING', NOSTATE: 'RUNNING' },
  rebootSoft: { RUNNING: 'RUNNING', SHUTDOWN: 'RUNNING', CRASHED: 'RUNNING', NOSTATE: 'RUNNING' },
  rebootHard: { RUNNING: 'RUNNING', PAUSED: 'RUNNING', SHUTDOWN: 'RUNNING', SUSPENDED: 'RUNNING', CRASHED: 'RUNNING', NOSTATE: 'RUNNING' },
  pause: { RUNNING: 'PAUSED', PAUSED: 'PAUSED' },
  unpause: { PAUSED: 'RUNNING', RUNNING: 'RUNNING' },
  suspend: { RUNNING: 'SUSPENDED', SUSPENDED: 'SUSPENDED' },
  resume: { SUSPENDED: 'RUNNING', RUNNING: 'RUNNING' },
  rescue: { RUNNING: 'RESCUE', SHUTDOWN: 'RESCUE', CRASHED: 'RESCUE', RESCUE: 'RESCUE' },
  unrescue: { RESCUE: 'RUNNING', RUNNING: 'RUNNING' },
  rebuild: { RUNNING: 'RUNNING', SHUTDOWN: 'SHUTDOWN', CRASHED: 'RUNNING' },
  snapshot: { RUNNING: 'same', PAUSED: 'same', SHUTDOWN: 'same', SUSPENDED: 'same', CRASHED: 'same' },
  attachVolume: { RUNNING: 'same', PAUSED: 'same', SHUTDOWN: 'same', CRASHED: 'same' },
  detachVolume: { RUNNING: 'same', SHUTDOWN: 'same', CRASHED: 'same' },
  extendVolume: { RUNNING: 'same', PAUSED: 'same', SHUTDOWN: 'same', CRASHED: 'same' },
  attachInterface: { RUNNING: 'same', PAUSED: 'same', SHUTDOWN: 'same', CRASHED: 'same' },
  detachInterface: { RUNNING: 'same', SHUTDOWN: 'same', CRASHED: 'same' },
  getConsoleOutput: { RUNNING: 'same', PAUSED: 'same', SHUTDOWN: 'same', SUSPENDED: 'same', CRASHED: 'same', NOSTATE: 'same', RESCUE: 'same' },
  // restoreState(uuid, desired): bring the instance back to the state its caller last asked for,
  // typically after a host restart. Never loses data silently: a saved memory image is not
  // discarded (SUSPENDED -> SHUTDOWN) and cannot be invented (SHUTDOWN -> SUSPENDED).
  restoreStateRunning: { RUNNING: 'RUNNING', PAUSED: 'RUNNING', SHUTDOWN: 'RUNNING', SUSPENDED: 'RUNNING', CRASHED: 'RUNNING', NOSTATE: 'RUNNING' },
  restoreStateShutdown: { RUNNING: 'SHUTDOWN', PAUSED: 'SHUTDOWN', SHUTDOWN: 'SHUTDOWN', CRASHED: 'SHUTDOWN', NOSTATE: 'SHUTDOWN' },
  restoreStatePaused: { RUNNING: 'PAUSED', PAUSED: 'PAUSED', SHUTDOWN: 'PAUSED', SUSPENDED: 'PAUSED', CRASHED: 'PAUSED', NOSTATE: 'PAUSED' },
  restoreStateSuspended: { RUNNING: 'SUSPENDED', PAUSED: 'SUSPENDED', SUSPENDED: 'SUSPENDED' },
};

/**
 * The cells contract 1.1 changed, with what they were in 1.0 and why. A driver whose
 * baseline (the lowest contract version its manifest accepts) is 1.0 is judged by the 1.0
 * cell there (semanticsFor); docs/contract.md renders this list as "Changes in 1.1".
 */
export const CELL_CHANGES: readonly { column: TableOperation; state: SemanticState; was: SemanticState | 'same' | 'refused'; since: string; reason: string }[] = [
  {
    column: 'rebootSoft',
    state: 'PAUSED',
    was: 'RUNNING',
    since: '1.1.0',
    reason: 'A paused guest cannot act on a graceful reboot request; libvirt turned it into a silent destroy and cold boot. Nova refuses it too. A hard reboot, or unpause then reboot, says what happens.',
  },
  {
    column: 'rebootSoft',
    state: 'SUSPENDED',
    was: 'RUNNING',
    since: '1.1.0',
    reason: 'It silently discarded the saved memory image, which the contract refuses for power on for the same reason. Resume first, or ask for a hard reboot, which discards the image explicitly (as Nova allows).',
  },
  {
    column: 'detachVolume',
    state: 'PAUSED',
    was: 'same',
    since: '1.1.0',
    reason: 'A paused guest cannot acknowledge an unplug: libvirt reported success while the device stayed. Unpause first.',
  },
  {
    column: 'detachInterface',
    state: 'PAUSED',
    was: 'same',
    since: '1.1.0',
    reason: 'A paused guest cannot acknowledge an unplug (as for volumes). Unpause first.',
  },
  {
    column: 'snapshot',
    state: 'SUSPENDED',
    was: 'refused',
    since: '1.1.0',
    reason: 'The disk of a suspended instance is quiescent and the copy works on every backend; Nova snapshots, backs up and shelves suspended instances, which the contract could not express.',
  },
  {
    column: 'rebuild',
    state: 'SHUTDOWN',
    was: 'RUNNING',
    since: '1.1.0',
    reason: 'Rebuild replaces the disk; it must not start an instance its user left stopped (Nova stops it again after rebuilding).',
  },
];

/**
 * Operations that bring the instance to a target state. Called in that state they succeed
 * and change nothing (`noop`), so a retry after a timeout is always safe. Reboot and
 * rebuild are actions, not targets: RUNNING -> RUNNING still reboots or rebuilds.
 */
const ENSURE_OPERATIONS: ReadonlySet<TableOperation> = new Set([
  'destroy', 'powerOff', 'powerOn', 'pause', 'unpause', 'suspend', 'resume', 'rescue', 'unrescue',
  'restoreStateRunning', 'restoreStateShutdown', 'restoreStatePaused', 'restoreStateSuspended',
]);

function transitionsAt(version: string): { readonly [O in TableOperation]: Partial<Record<SemanticState, SemanticState | 'same'>> } {
  const out = {} as Record<TableOperation, Partial<Record<SemanticState, SemanticState | 'same'>>>;
  for (const op of TABLE_OPERATIONS) out[op] = { ...TRANSITIONS[op] };
  for (const change of CELL_CHANGES) {
    if (compareVersions(version, change.since) >= 0) continue;
    if (change.was === 'refused') delete out[change.column][change.state];
    else out[change.column][change.state] = change.was;
  }
  return out;
}

function buildTable(transitions = TRANSITIONS): SemanticsTable {
  const table = {} as Record<SemanticState, Record<TableOperation, Cell>>;
  for (const state of SEMANTIC_STATES) {
    table[state] = {} as Record<TableOperation, Cell>;
    for (const op of TABLE_OPERATIONS) {
      const target = transitions[op][state];
      const rule = cellRuleId(op, state);
      let cell: Cell;
      if (target === undefined) {
        const error: ErrorCode = state === 'ABSENT' ? 'INSTANCE_NOT_FOUND' : op === 'spawn' ? 'INSTANCE_EXISTS' : 'INVALID_STATE';
        cell = { kind: 'error', error, rule };
      } else {
        const to = target === 'same' ? state : target;
        cell = { kind: 'ok', to, noop: ENSURE_OPERATIONS.has(op) && to === state, rule };
      }
      table[state][op] = Object.freeze(cell);
    }
    Object.freeze(table[state]);
  }
  return Object.freeze(table) as SemanticsTable;
}

/**
 * THE semantics table: power state x operation -> resulting state or the exact error.
 * The single oracle of the conformance suite and of the reference driver.
 */
export const SEMANTICS: SemanticsTable = buildTable();

/** The table as of contract 1.0.0, for drivers whose baseline is 1.0 (see CELL_CHANGES). */
export const SEMANTICS_1_0: SemanticsTable = buildTable(transitionsAt('1.0.0'));

/**
 * The table a driver is held to: the one of the lowest contract version its manifest accepts
 * (its baseline). Columns the baseline did not have are not called on it (their capability
 * is one it does not know).
 */
export function semanticsFor(baseline: string): SemanticsTable {
  return compareVersions(baseline, '1.1.0') < 0 ? SEMANTICS_1_0 : SEMANTICS;
}

/** Every state of an existing instance (all rows but ABSENT). */
export const EXISTING_STATES: readonly ExistingState[] = EXISTING;
