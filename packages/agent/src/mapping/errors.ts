import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { DriverError, type ErrorCode, type InputIssue } from '@nova-common/core';
import * as pb from '../wire.js';
import { errorCodes, instanceStates, optFromProto, optToProto } from './enums.js';
import { opt } from './scalars.js';

/**
 * The gRPC status each contract code travels under, so that generic gRPC tooling (retry
 * policies, dashboards, grpcurl) reads the class of failure without knowing the contract.
 */
export const GRPC_STATUS_OF: { readonly [C in ErrorCode]: GrpcStatus } = {
  INSTANCE_NOT_FOUND: GrpcStatus.NOT_FOUND,
  NODE_NOT_FOUND: GrpcStatus.NOT_FOUND,
  INSTANCE_EXISTS: GrpcStatus.ALREADY_EXISTS,
  VOLUME_ALREADY_ATTACHED: GrpcStatus.ALREADY_EXISTS,
  INTERFACE_ALREADY_ATTACHED: GrpcStatus.ALREADY_EXISTS,
  INVALID_STATE: GrpcStatus.FAILED_PRECONDITION,
  NODE_UNAVAILABLE: GrpcStatus.FAILED_PRECONDITION,
  VOLUME_NOT_ATTACHED: GrpcStatus.FAILED_PRECONDITION,
  INTERFACE_NOT_ATTACHED: GrpcStatus.FAILED_PRECONDITION,
  UNSUPPORTED: GrpcStatus.UNIMPLEMENTED,
  INVALID_INPUT: GrpcStatus.INVALID_ARGUMENT,
  CONFLICT: GrpcStatus.ABORTED,
  BACKEND_UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  TIMEOUT: GrpcStatus.DEADLINE_EXCEEDED,
  INTERNAL: GrpcStatus.INTERNAL,
  CANCELLED: GrpcStatus.CANCELLED,
  INSUFFICIENT_RESOURCES: GrpcStatus.RESOURCE_EXHAUSTED,
};

/**
 * The contract code of a status that carries no ErrorDetail: one the transport or the agent's
 * wall produced (deadline passed, connection lost, refused by role, malformed frame).
 */
export function codeOfBareStatus(code: GrpcStatus): ErrorCode {
  switch (code) {
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 'TIMEOUT';
    case GrpcStatus.CANCELLED:
      return 'CANCELLED';
    case GrpcStatus.UNAVAILABLE:
      return 'BACKEND_UNAVAILABLE';
    case GrpcStatus.ABORTED:
      return 'CONFLICT';
    case GrpcStatus.INVALID_ARGUMENT:
      return 'INVALID_INPUT';
    default:
      return 'INTERNAL';
  }
}

function pathToProto(path: readonly (string | number)[]): pb.PathSegment[] {
  return path.map((p) => create(pb.PathSegmentSchema, { segment: typeof p === 'number' ? { case: 'index', value: p } : { case: 'key', value: p } }));
}

function pathFromProto(path: readonly pb.PathSegment[]): (string | number)[] {
  return path.map((p) => (p.segment.case === 'index' ? p.segment.value : (p.segment.value ?? '')));
}

/**
 * DriverError keeps its `detail` only inside the message; it is recovered as what follows the
 * message the structured fields alone produce.
 */
function detailOf(error: DriverError): string | undefined {
  const base = new DriverError(error.code, { op: error.op, target: error.target, issues: error.issues, currentState: error.currentState, capability: error.capability }).message;
  if (error.message.length > base.length + 3 && error.message.startsWith(`${base} (`) && error.message.endsWith(')')) {
    return error.message.slice(base.length + 2, -1);
  }
  return undefined;
}

export function errorDetailOf(error: DriverError): pb.ErrorDetail {
  return create(pb.ErrorDetailSchema, {
    code: errorCodes.toProto(error.code),
    retryable: error.retryable,
    message: error.message,
    op: error.op,
    target: error.target,
    issues: (error.issues ?? []).map((i: InputIssue) => ({ path: pathToProto(i.path), message: i.message })),
    currentState: optToProto(instanceStates, error.currentState),
    capability: error.capability,
    detail: detailOf(error),
  });
}

/** The DriverError an ErrorDetail describes; `cause` is what the caller saw on the wire. */
export function driverErrorOf(detail: pb.ErrorDetail, cause?: unknown): DriverError {
  const code = errorCodes.fromProto(detail.code);
  const known: ErrorCode = typeof code === 'string' ? code : 'INTERNAL';
  const issues = detail.issues.map((i) => ({ path: pathFromProto(i.path), message: i.message }));
  return new DriverError(known, {
    ...opt('op', detail.op),
    ...opt('target', detail.target),
    ...(issues.length > 0 ? { issues } : {}),
    ...opt('currentState', optFromProto(instanceStates, detail.currentState)),
    ...opt('capability', detail.capability),
    ...opt('detail', typeof code === 'string' ? detail.detail : `unknown error code ${detail.code}: ${detail.message}`),
    ...opt('cause', cause),
  });
}

/** The `grpc-status-details-bin` trailer's bytes: an RpcStatus (google.rpc.Status) holding the ErrorDetail. */
export function statusDetailsBin(code: GrpcStatus, detail: pb.ErrorDetail): Uint8Array {
  return toBinary(pb.RpcStatusSchema, create(pb.RpcStatusSchema, { code, message: detail.message, details: [anyPack(pb.ErrorDetailSchema, detail)] }));
}

/** The ErrorDetail in a `grpc-status-details-bin` trailer, if it holds one. */
export function errorDetailFromStatusBin(bytes: Uint8Array): pb.ErrorDetail | undefined {
  try {
    const status = fromBinary(pb.RpcStatusSchema, bytes);
    for (const any of status.details) {
      const detail = anyUnpack(any, pb.ErrorDetailSchema);
      if (detail !== undefined) return detail;
    }
  } catch {
    // A trailer that does not parse carries no detail; the status code still does.
  }
  return undefined;
}
