import type { DescMethod, Message } from '@bufbuild/protobuf';
import { Metadata, status, type Client, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { abortError, DriverError, OPERATIONS, type OperationName } from '@nova-common/core';
import { methodDefinition } from '../grpc/service-definition.js';
import { codeOfBareStatus, driverErrorOf, errorDetailFromStatusBin } from '../mapping/errors.js';
import { EVENT_POSITION_KEY } from '../server/event-log.js';

/** A failure the transport produced, with no contract error behind it: worth retrying when UNAVAILABLE. */
export class TransportFailure extends Error {
  override readonly name = 'TransportFailure';
  constructor(readonly error: DriverError, readonly grpcCode: status) {
    super(error.message);
  }
}

/** The contract error a failed call stands for. */
export function remoteError(err: ServiceError, op: string): DriverError | TransportFailure {
  const bin = err.metadata?.get('grpc-status-details-bin')[0];
  const detail = bin instanceof Buffer ? errorDetailFromStatusBin(bin) : undefined;
  if (detail !== undefined) return driverErrorOf(detail, err);
  // A bare UNIMPLEMENTED is a server that does not know the RPC (one built against an older
  // contract, before RestoreState or ListSnapshots): the operation is UNSUPPORTED there.
  const capability = OPERATIONS[op as OperationName]?.capability;
  if (err.code === status.UNIMPLEMENTED && capability !== undefined && capability !== null) {
    return new DriverError('UNSUPPORTED', { op, capability, detail: `the server does not implement the RPC: ${err.details}`, cause: err });
  }
  // No ErrorDetail: the wall refused the call, or the transport failed. PERMISSION_DENIED has no
  // contract code (the contract speaks of drivers, not callers): INTERNAL, naming it.
  const code = codeOfBareStatus(err.code);
  const name = status[err.code] ?? String(err.code);
  return new TransportFailure(new DriverError(code, { op, detail: `${name} from the agent: ${err.details}`, cause: err }), err.code);
}

export interface Answer {
  readonly response: Message;
  /** The event position the answer carried (`<stream id>:<sequence>`), if any. */
  readonly eventPosition: string | undefined;
}

/** What a call needs of an operation: its name (for errors) and its RPC. */
export interface CallTarget {
  readonly op: string;
  readonly method: DescMethod;
}

const definitions = new WeakMap<CallTarget, ReturnType<typeof methodDefinition>>();
function definitionOf(wire: CallTarget) {
  let d = definitions.get(wire);
  if (d === undefined) definitions.set(wire, (d = methodDefinition(wire.method)));
  return d;
}

/**
 * One unary call: `signal` cancels it, `deadline` bounds it; rejects with DriverError or
 * TransportFailure. With `waitForReady` a call made while the channel is down waits for it to
 * come back (until the deadline) instead of failing at once: what retries use.
 */
export function unaryCall(client: Client, wire: CallTarget, request: Message, deadline: number, signal: AbortSignal | undefined, waitForReady = false): Promise<Answer> {
  const d = definitionOf(wire);
  return new Promise<Answer>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    let response: Message | undefined;
    const call = client.makeUnaryRequest(d.path, d.requestSerialize, d.responseDeserialize as (b: Buffer) => Message, request, waitForReady ? new Metadata({ waitForReady: true }) : new Metadata(), { deadline }, (err, value) => {
      signal?.removeEventListener('abort', onAbort);
      if (err) {
        reject(signal?.aborted ? abortError(signal) : remoteError(err, wire.op));
        return;
      }
      response = value;
    });
    // The trailers of a success come with the 'status' event, right after the callback.
    call.on('status', (s: StatusObject) => {
      if (s.code !== status.OK || response === undefined) return;
      const position = s.metadata.get(EVENT_POSITION_KEY)[0];
      resolve({ response, eventPosition: typeof position === 'string' ? position : undefined });
    });
    const onAbort = () => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
