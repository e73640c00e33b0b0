import type { ErrorCode } from '../errors/codes.js';
import { SEMANTIC_STATES, TABLE_OPERATIONS, type SemanticState, type TableOperation } from './states.js';
import { cellRuleId, type CellRuleId } from './rules.js';

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
  rebootSoft: { RUNNING: 'RUNNING', PAUSED: 'RUNNING', SHUTDOWN: 'RUNNING', SUSPENDED: 'RUNNING', CRASHED: 'RUNNING', NOSTATE: 'RUNNING' },
  rebootHard: { RUNNING: 'RUNNING', PAUSED: 'RUNNING', SHUTDOWN: 'RUNNING', SUSPENDED: 'RUNNING', CRASHED: 'RUNNING', NOSTATE: 'RUNNING' },
  pause: { RUNNING: 'PAUSED', PAUSED: 'PAUSED' },
  unpause: { PAUSED: 'RUNNING', RUNNING: 'RUNNING' },
  suspend: { RUNNING: 'SUSPENDED', SUSPENDED: 'SUSPENDED' },
  resume: { SUSPENDED: 'RUNNING', RUNNING: 'RUNNING' },
  rescue: { RUNNING: 'RESCUE', SHUTDOWN: 'RESCUE', CRASHED: 'RESCUE', RESCUE: 'RESCUE' },
  unrescue: { RESCUE: 'RUNNING', RUNNING: 'RUNNING' },
  rebuild: { RUNNING: 'RUNNING', SHUTDOWN: 'RUNNING', CRASHED: 'RUNNING' },
  snapshot: { RUNNING: 'same', PAUSED: 'same', SHUTDOWN: 'same', CRASHED: 'same' },
  attachVolume: { RUNNING: 'same', PAUSED: 'same', SHUTDOWN: 'same', CRASHED: 'same' },
  detachVolume: { RUNNING: 'same', PAUSED: 'same', SHUTDOWN: 'same', CRASHED: 'same' },
  extendVolume: { RUNNING: 'same', PAUSED: 'same', SHUTDOWN: 'same', CRASHED: 'same' },
  attachInterface: { RUNNING: 'same', PAUSED: 'same', SHUTDOWN: 'same', CRASHED: 'same' },
  detachInterface: { RUNNING: 'same', PAUSED: 'same', SHUTDOWN: 'same', CRASHED: 'same' },
  getConsoleOutput: { RUNNING: 'same', PAUSED: 'same', SHUTDOWN: 'same', SUSPENDED: 'same', CRASHED: 'same', NOSTATE: 'same', RESCUE: 'same' },
};

/**
 * Operations that bring the instance to a target state. Called in that state they succeed
 * and change nothing (`noop`), so a retry after a timeout is always safe. Reboot and
 * rebuild are actions, not targets: RUNNING -> RUNNING still reboots or rebuilds.
 */
const ENSURE_OPERATIONS: ReadonlySet<TableOperation> = new Set([
  'destroy', 'powerOff', 'powerOn', 'pause', 'unpause', 'suspend', 'resume', 'rescue', 'unrescue',
]);

function buildTable(): SemanticsTable {
  const table = {} as Record<SemanticState, Record<TableOperation, Cell>>;
  for (const state of SEMANTIC_STATES) {
    table[state] = {} as Record<TableOperation, Cell>;
    for (const op of TABLE_OPERATIONS) {
      const target = TRANSITIONS[op][state];
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

/** Every state of an existing instance (all rows but ABSENT). */
export const EXISTING_STATES: readonly ExistingState[] = EXISTING;
