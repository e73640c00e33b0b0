import { DriverError, isDriverError } from '@nova-common/core';
import { EngineAbortedError, EngineHttpError, EngineUnavailableError } from '../client/errors.js';
import { isNotRunningAnswer } from './engine-kind.js';

/**
 * Engine errors -> contract errors, for the cases the driver has not handled itself.
 * (Endpoint-specific statuses, such as 304 "already started" or 409 "already paused",
 * are absorbed by the driver before they get here, by checking the state first.)
 *
 *   connection refused / reset / socket gone  -> BACKEND_UNAVAILABLE
 *   the call's signal aborted                 -> the signal's reason (TIMEOUT or CANCELLED), else CANCELLED
 *   404 on a container                        -> INSTANCE_NOT_FOUND
 *   409                                       -> CONFLICT (another change is in progress)
 *   400                                       -> INVALID_INPUT (the engine refused the config)
 *   500/503 mentioning "is not running" etc.  -> INVALID_STATE when a state is known, else CONFLICT
 *   anything else                             -> INTERNAL, cause kept
 */
export function toContractError(err: unknown, op: string, target?: string): DriverError {
  if (isDriverError(err)) return err instanceof DriverError ? err.withOp(op) : (err as DriverError);
  if (err instanceof EngineUnavailableError) {
    return new DriverError('BACKEND_UNAVAILABLE', { op, target, detail: err.message, cause: err });
  }
  if (err instanceof EngineAbortedError) {
    return err.reason instanceof DriverError ? err.reason.withOp(op) : new DriverError('CANCELLED', { op, target, cause: err });
  }
  if (err instanceof EngineHttpError) {
    const detail = `engine: ${err.status} ${err.engineMessage}`;
    if (err.status === 404 && /container/i.test(err.engineMessage) && target) {
      return new DriverError('INSTANCE_NOT_FOUND', { op, target, detail, cause: err });
    }
    if (err.status === 409) return new DriverError('CONFLICT', { op, target, detail, cause: err });
    if (err.status === 400) {
      return new DriverError('INVALID_INPUT', { op, target, issues: [{ path: [], message: err.engineMessage }], cause: err });
    }
    if (err.status === 503) return new DriverError('BACKEND_UNAVAILABLE', { op, target, detail, cause: err });
    return new DriverError('INTERNAL', { op, target, detail, cause: err });
  }
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new DriverError('INTERNAL', { op, target, detail, cause: err });
}

export function isNotFound(err: unknown): boolean {
  return err instanceof EngineHttpError && err.status === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof EngineHttpError && err.status === 409;
}

export function isUnavailable(err: unknown): boolean {
  return err instanceof EngineUnavailableError || (isDriverError(err) && err.code === 'BACKEND_UNAVAILABLE');
}

/** A kill that found the container stopped already (it ended between the driver's read and the kill). */
export function isNotRunning(err: unknown): boolean {
  return err instanceof EngineHttpError && isNotRunningAnswer(err.status, err.engineMessage);
}
