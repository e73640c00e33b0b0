import { DriverError } from '../errors/driver-error.js';
import { expectedOutcome, type OutcomeContext } from '../semantics/oracle.js';
import type { SemanticState, TableOperation } from '../semantics/states.js';

/** What a cell allows: the state the operation leads to, and whether it changes nothing. */
export interface CellDecision {
  to: SemanticState;
  noop: boolean;
}

/**
 * Apply the semantics table: the decision for `column` in `state`, or the table's exact error
 * thrown as a DriverError (INSTANCE_NOT_FOUND, INVALID_STATE with the current state,
 * INSTANCE_EXISTS, or a device precondition given in `ctx`). Every driver decides through
 * this, so no driver words a table error its own way.
 */
export function enforceCell(
  state: SemanticState,
  column: TableOperation,
  where: { op: string; uuid: string; ctx?: OutcomeContext },
): CellDecision {
  const outcome = expectedOutcome(state, column, where.ctx);
  if (outcome.ok) return { to: outcome.to, noop: outcome.noop };
  const { op, uuid } = where;
  if (outcome.error === 'INVALID_STATE' && state !== 'ABSENT') {
    return throwError(new DriverError('INVALID_STATE', { op, target: uuid, currentState: state }));
  }
  return throwError(new DriverError(outcome.error, { op, target: uuid }));
}

function throwError(error: DriverError): never {
  throw error;
}
