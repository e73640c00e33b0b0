import { create, fromBinary, toBinary, type Message } from '@bufbuild/protobuf';
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { DriverError, toDriverError, type ErrorCode, type OperationName } from '@nova-common/core';
import { isMalformed } from '../grpc/service-definition.js';
import { driverErrorOf, errorDetailOf } from '../mapping/errors.js';
import type { RemoteOperation, WireOperation } from '../mapping/operations.js';
import * as pb from '../wire.js';
import { callerOf, callScope, type ListenerPolicy, type ServiceContext } from './context.js';
import { requestFingerprint } from './fingerprint.js';
import { RequestIdReused, type Outcome } from './journal.js';
import { contractStatus, permissionDenied, trailers } from './status.js';

/**
 * A retry of a call whose first attempt was interrupted (the agent stopped, or the outcome was
 * unknown) cannot tell "it happened" from "it did not"; these answers mean it happened, and the
 * retry succeeds. Reboot, rebuild and snapshot have no such answer: their retry acts again.
 */
const CONVERGES: Partial<Record<RemoteOperation, ErrorCode>> = {
  spawn: 'INSTANCE_EXISTS',
  attachVolume: 'VOLUME_ALREADY_ATTACHED',
  detachVolume: 'VOLUME_NOT_ATTACHED',
  attachInterface: 'INTERFACE_ALREADY_ATTACHED',
  detachInterface: 'INTERFACE_NOT_ATTACHED',
};

/**
 * An interrupted spawn's retry answered INSTANCE_EXISTS: the first attempt got far enough to
 * claim the uuid. It converged only if the instance is there to read; when the driver does not
 * find it (the attempt died half made, and what it left is not yet cleaned up), the retry is
 * told CONFLICT (retryable, not recorded), never a success that did not happen.
 */
async function unfinishedSpawn(ctx: ServiceContext, uuid: string, signal: AbortSignal): Promise<DriverError | undefined> {
  try {
    await ctx.driver.call('getInfo', [uuid], { signal } as never);
    return undefined;
  } catch (thrown) {
    const error = toDriverError(thrown, 'spawn');
    if (error.code !== 'INSTANCE_NOT_FOUND') return error;
    return new DriverError('CONFLICT', { op: 'spawn', target: uuid, detail: 'an interrupted attempt of this request left the instance unfinished and the driver has not cleaned it up yet: retry later with the same request id' });
  }
}

const REQUEST_ID = /^[^\u0000-\u001f\u007f]{1,128}$/;

function invalidInput(op: string, path: (string | number)[], message: string): DriverError {
  return new DriverError('INVALID_INPUT', { op, issues: [{ path, message }] });
}

/** The handler of one unary RPC on one listener. */
export function unaryHandler(wire: WireOperation, ctx: ServiceContext, policy: ListenerPolicy) {
  const op = wire.op;
  const output = wire.method.output;
  // GetCapabilities also says who answers: the contract version, the driver, the agent.
  const identity =
    op === 'getCapabilities'
      ? {
          contractVersion: ctx.identity.contractVersion,
          driver: { name: ctx.identity.driverName, version: ctx.identity.driverVersion, contract: ctx.identity.driverContract },
          agentVersion: ctx.identity.agentVersion,
        }
      : undefined;

  /** Call the guarded driver once and map its result. */
  async function invoke(request: Message, signal: AbortSignal): Promise<Message> {
    const { args, options } = wire.toCall(request as never);
    const result = await ctx.driver.call(op as OperationName, args, { ...options, signal } as never);
    const init = wire.toResponse(result) as object;
    return create(output, (identity === undefined ? init : { ...init, ...identity }) as never);
  }

  /** A mutating call, once per request id: the journal replays what a repeat asks again. */
  async function invokeOnce(request: Message & { requestId: string }, signal: AbortSignal): Promise<Message> {
    const id = request.requestId;
    if (!REQUEST_ID.test(id)) throw invalidInput(op, ['requestId'], 'must be 1 to 128 characters without control characters');
    const { args, options } = wire.toCall(request as never);
    const run = async (interrupted: boolean): Promise<Outcome> => {
      try {
        const result = await ctx.driver.call(op as OperationName, args, { ...options, signal } as never);
        return { ok: true, response: toBinary(output, create(output, wire.toResponse(result) as never)) };
      } catch (thrown) {
        let error = toDriverError(thrown, op);
        if (interrupted && CONVERGES[op] === error.code) {
          const unfinished = op === 'spawn' ? await unfinishedSpawn(ctx, (args[0] as { uuid: string }).uuid, signal) : undefined;
          if (unfinished === undefined) {
            ctx.log.info({ op, requestId: id, code: error.code }, 'retry of an interrupted call found it done');
            return { ok: true, response: toBinary(output, create(output)) };
          }
          ctx.log.warn({ op, requestId: id, err: unfinished.message }, 'retry of an interrupted spawn found it unfinished');
          error = unfinished;
        }
        return { ok: false, error: toBinary(pb.ErrorDetailSchema, errorDetailOf(error)) };
      }
    };
    const keep = (o: Outcome) => o.ok || !fromBinary(pb.ErrorDetailSchema, o.error).retryable;
    let outcome: Outcome;
    try {
      outcome = await ctx.journal.run(id, op, requestFingerprint(op, args, options), run, keep, signal);
    } catch (error) {
      if (error instanceof RequestIdReused) throw invalidInput(op, ['requestId'], error.message);
      throw error;
    }
    if (outcome.ok) return fromBinary(output, outcome.response);
    throw driverErrorOf(fromBinary(pb.ErrorDetailSchema, outcome.error));
  }

  return (call: ServerUnaryCall<unknown, Message>, callback: sendUnaryData<Message>): void => {
    const caller = callerOf(call, policy);
    if (!caller.may(op)) {
      ctx.metrics.refused(op, 'PERMISSION_DENIED');
      ctx.log.warn({ op, caller: caller.name, roles: [...caller.roles] }, 'refused: the caller’s role does not allow this operation');
      callback(permissionDenied(`${caller.roles.size === 0 ? 'a caller without a role' : `role ${[...caller.roles].join('+')}`} may not call ${wire.method.name}`));
      return;
    }
    const request = call.request;
    if (isMalformed(request)) {
      ctx.metrics.refused(op, 'INVALID_INPUT');
      ctx.log.warn({ op, caller: caller.name, err: request.malformed.message }, 'refused: the request does not parse');
      callback(contractStatus(invalidInput(op, [], `the request does not parse as ${wire.method.input.typeName}: ${request.malformed.message}`), ctx.events));
      return;
    }
    const done = ctx.metrics.begin(op);
    const scope = callScope(call, op, ctx.inFlight);
    const running = wire.mutating ? invokeOnce(request as Message & { requestId: string }, scope.signal) : invoke(request as Message, scope.signal);
    running.then(
      (response) => {
        scope.end();
        done('OK');
        if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ op, caller: caller.name }, 'ok');
        callback(null, response, trailers(ctx.events));
      },
      (thrown: unknown) => {
        scope.end();
        const error = toDriverError(thrown, op);
        done(error.code);
        if (error.code === 'INTERNAL') ctx.log.warn({ op, caller: caller.name, err: error.message }, 'failed');
        else if (ctx.log.isLevelEnabled('debug')) ctx.log.debug({ op, caller: caller.name, code: error.code }, error.message);
        callback(contractStatus(error, ctx.events));
      },
    );
  };
}
