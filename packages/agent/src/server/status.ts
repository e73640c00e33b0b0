import { Metadata, status, type ServerErrorResponse } from '@grpc/grpc-js';
import type { DriverError } from '@nova-common/core';
import { errorDetailOf, GRPC_STATUS_OF, statusDetailsBin } from '../mapping/errors.js';
import type { EventLog } from './event-log.js';
import { EVENT_POSITION_KEY } from './event-log.js';

/** The trailers every answer carries: the event position, when the driver has events. */
export function trailers(events: EventLog | undefined): Metadata {
  const metadata = new Metadata();
  if (events !== undefined) metadata.set(EVENT_POSITION_KEY, events.position());
  return metadata;
}

/** A contract error as a gRPC status: the code's status, its message, and the ErrorDetail trailer. */
export function contractStatus(error: DriverError, events: EventLog | undefined): ServerErrorResponse {
  const code = GRPC_STATUS_OF[error.code];
  const metadata = trailers(events);
  metadata.set('grpc-status-details-bin', Buffer.from(statusDetailsBin(code, errorDetailOf(error))));
  return Object.assign(new Error(error.message), { code, details: error.message, metadata });
}

/** A refusal at the wall: PERMISSION_DENIED, no detail (the caller learns nothing about the driver). */
export function permissionDenied(message: string): ServerErrorResponse {
  return Object.assign(new Error(message), { code: status.PERMISSION_DENIED, details: message });
}
