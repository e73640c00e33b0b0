import {
  OPERATIONS,
  SEMANTIC_STATES,
  TABLE_OPERATIONS,
  capabilityOfColumn,
  expectedOutcome,
  operationOfColumn,
  supports,
  type SemanticState,
  type SemanticsTable,
  type TableOperation,
} from '@nova-common/core';
import { opAllowed, type CommandScope } from '../commands/intents.js';

/**
 * The cells of the semantics table (a state row x an operation column) a run can reach for
 * the driver under test. A column is reachable when its operation is one the run may call
 * (declared, within the profile filter, with the run's devices) and the capability its column
 * needs besides (restoreState to PAUSED or SUSPENDED) is declared too. A row is reachable when
 * an instance can be brought into its state: from ABSENT, by spawn and the columns the run may
 * call (core's oracle says where each leads), or by the simulation hooks the fixtures give
 * (CRASHED, NOSTATE). Everything comes from the registry and the table; nothing is listed here.
 */

/** One cell: a row of the table and a column. */
export interface CellRef {
  state: SemanticState;
  column: TableOperation;
}

/** `STATE/column`, the key of a cell in sets and maps. */
export const cellKey = (state: SemanticState, column: TableOperation): string => `${state}/${column}`;

type Scope = Pick<CommandScope, 'caps' | 'allowed' | 'excluded' | 'simulate'>;

/** Whether the run may call a column: its operation is allowed and the column's own capability is declared. */
export function columnReachable(scope: Scope, column: TableOperation): boolean {
  const op = operationOfColumn(column);
  if (!(op in OPERATIONS) || !opAllowed(scope, op)) return false;
  const extra = capabilityOfColumn(op, column);
  return extra === undefined || (supports(scope.caps, extra) && (scope.allowed === undefined || scope.allowed.has(extra)));
}

/** The states an instance can be brought to, by the oracle's transitions over the reachable columns and the hooks. */
export function reachableStates(scope: Scope, table: SemanticsTable): Set<SemanticState> {
  const columns = TABLE_OPERATIONS.filter((c) => columnReachable(scope, c));
  const seen = new Set<SemanticState>(['ABSENT']);
  const queue: SemanticState[] = ['ABSENT'];
  const reach = (s: SemanticState): void => {
    if (seen.has(s)) return;
    seen.add(s);
    queue.push(s);
  };
  while (queue.length > 0) {
    const s = queue.shift()!;
    for (const column of columns) {
      const o = expectedOutcome(s, column, {}, table);
      if (o.ok) reach(o.to);
      // A spawn may leave the instance powered off.
      if (column === 'spawn' && o.ok) {
        const off = expectedOutcome(s, column, { powerOn: false }, table);
        if (off.ok) reach(off.to);
      }
    }
    if (s !== 'ABSENT') {
      if (scope.simulate.crash) reach('CRASHED');
      if (scope.simulate.noState) reach('NOSTATE');
    }
  }
  return seen;
}

/** Every reachable cell, rows in table order, columns in registry order. */
export function reachableCells(scope: Scope, table: SemanticsTable): CellRef[] {
  const states = reachableStates(scope, table);
  const columns = TABLE_OPERATIONS.filter((c) => columnReachable(scope, c));
  const out: CellRef[] = [];
  for (const state of SEMANTIC_STATES) if (states.has(state)) for (const column of columns) out.push({ state, column });
  return out;
}
