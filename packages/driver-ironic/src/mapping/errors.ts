/**
 * Ironic failures -> the contract's error codes. The client decodes the wire; this file
 * decides what an answer means for the operation that got it.
 *   400 wrong provision state      -> INVALID_STATE
 *   400 node in maintenance        -> CONFLICT (an operator holds the node; retry later)
 *   409 NodeLocked (after retries) -> CONFLICT
 *   409 other                      -> CONFLICT (callers turn "already associated" into their own code)
 *   404                            -> INSTANCE_NOT_FOUND or NODE_NOT_FOUND (the caller says which)
 *   503 / connection refused       -> BACKEND_UNAVAILABLE
 *   request timeout                -> TIMEOUT
 *   the call's signal fired        -> its own DriverError (TIMEOUT at the deadline, CANCELLED), kept
 *   406 / 5xx / other              -> INTERNAL, with Ironic's message kept
 */
import { DriverError, isDriverError, toDriverError, type PowerState } from '@nova-common/core';
import { IronicApiError, isMaintenanceMessage, isWrongStateMessage } from '../client/errors.js';
import { MicroversionMismatchError } from '../client/client.js';

export interface ErrorContext {
  op: string;
  /** The instance (or node) the call was about. */
  target?: string;
  /** What a 404 means here. */
  notFound?: 'INSTANCE_NOT_FOUND' | 'NODE_NOT_FOUND';
  /** The instance's state, reported with INVALID_STATE. */
  currentState?: PowerState | 'RESCUE';
}

export function toContractError(e: unknown, ctx: ErrorContext): DriverError {
  if (isDriverError(e)) return toDriverError(e, ctx.op);
  const base = { op: ctx.op, target: ctx.target, cause: e };
  if (e instanceof MicroversionMismatchError) {
    return new DriverError('INVALID_INPUT', { ...base, issues: [{ path: ['microversion'], message: e.message }] });
  }
  if (!(e instanceof IronicApiError)) {
    const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return new DriverError('INTERNAL', { ...base, detail });
  }
  const detail = `Ironic ${e.status || e.kind}: ${e.detail}`;
  switch (e.kind) {
    case 'timeout':
      return new DriverError('TIMEOUT', { ...base, detail });
    case 'unavailable':
      return new DriverError('BACKEND_UNAVAILABLE', { ...base, detail });
    case 'node-locked':
    case 'conflict':
      return new DriverError('CONFLICT', { ...base, detail });
    case 'not-found':
      return new DriverError(ctx.notFound ?? 'INSTANCE_NOT_FOUND', { ...base, detail });
    case 'bad-request':
      if (isWrongStateMessage(e.detail)) return new DriverError('INVALID_STATE', { ...base, currentState: ctx.currentState, detail });
      if (isMaintenanceMessage(e.detail)) return new DriverError('CONFLICT', { ...base, detail });
      return new DriverError('INTERNAL', { ...base, detail });
    default:
      return new DriverError('INTERNAL', { ...base, detail });
  }
}
