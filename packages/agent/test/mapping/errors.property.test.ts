import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { DriverError, ERROR_CODE_LIST, ERROR_CODES, type ErrorCode } from '@nova-common/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOfBareStatus, driverErrorOf, errorDetailFromStatusBin, errorDetailOf, GRPC_STATUS_OF, statusDetailsBin } from '../../src/mapping/errors.js';
import * as pb from '../../src/wire.js';

const driverErrorArb = fc
  .record(
    {
      code: fc.constantFrom(...ERROR_CODE_LIST),
      op: fc.string({ minLength: 1, maxLength: 20 }),
      target: fc.string({ minLength: 1, maxLength: 40 }),
      issues: fc.array(
        fc.record({ path: fc.array(fc.oneof(fc.string({ maxLength: 10 }), fc.nat({ max: 1000 })), { maxLength: 4 }), message: fc.string({ maxLength: 40 }) }),
        { minLength: 1, maxLength: 3 },
      ),
      currentState: fc.constantFrom('NOSTATE', 'RUNNING', 'PAUSED', 'SHUTDOWN', 'CRASHED', 'SUSPENDED', 'RESCUE' as const),
      capability: fc.string({ minLength: 1, maxLength: 30 }),
      detail: fc.string({ minLength: 1, maxLength: 60 }),
    },
    { requiredKeys: ['code'] },
  )
  .map(({ code, ...options }) => new DriverError(code, options));

describe('contract errors on the wire', () => {
  it('a DriverError comes back with the same code, fields and message through the status trailer', () => {
    fc.assert(
      fc.property(driverErrorArb, (error) => {
        const grpcCode = GRPC_STATUS_OF[error.code];
        const detail = errorDetailFromStatusBin(statusDetailsBin(grpcCode, errorDetailOf(error)));
        expect(detail).toBeDefined();
        const back = driverErrorOf(detail!);
        expect(back.toJSON()).toStrictEqual(structuredClone(error.toJSON()));
        expect(back.message).toBe(error.message);
      }),
    );
  });

  it('the trailer is a google.rpc.Status: code, message, one Any of nova_common.compute.v1.ErrorDetail', () => {
    const error = new DriverError('INVALID_STATE', { op: 'pause', target: 'x', currentState: 'SHUTDOWN' });
    const status_ = fromBinary(pb.RpcStatusSchema, statusDetailsBin(GRPC_STATUS_OF[error.code], errorDetailOf(error)));
    expect(status_.code).toBe(status.FAILED_PRECONDITION);
    expect(status_.message).toBe(error.message);
    expect(status_.details.map((d) => d.typeUrl)).toStrictEqual(['type.googleapis.com/nova_common.compute.v1.ErrorDetail']);
    const detail = fromBinary(pb.ErrorDetailSchema, status_.details[0]!.value);
    expect(detail.code).toBe(pb.ErrorCode.INVALID_STATE);
    expect(detail.retryable).toBe(false);
    expect(detail.currentState).toBe(pb.InstanceState.SHUTDOWN);
  });

  it('every code has a gRPC status, and the bare statuses a transport produces map back to the retryable codes', () => {
    expect(Object.keys(GRPC_STATUS_OF).sort()).toStrictEqual([...ERROR_CODE_LIST].sort());
    const bare: [status, ErrorCode][] = [
      [status.DEADLINE_EXCEEDED, 'TIMEOUT'],
      [status.CANCELLED, 'CANCELLED'],
      [status.UNAVAILABLE, 'BACKEND_UNAVAILABLE'],
      [status.PERMISSION_DENIED, 'INTERNAL'],
      [status.RESOURCE_EXHAUSTED, 'INTERNAL'],
    ];
    for (const [grpc, code] of bare) expect(codeOfBareStatus(grpc)).toBe(code);
    for (const code of ['TIMEOUT', 'CANCELLED', 'BACKEND_UNAVAILABLE'] as const) expect(ERROR_CODES[code].retryable).toBe(true);
  });

  it('an unknown code from a newer agent becomes INTERNAL naming it, and a garbage trailer carries no detail', () => {
    const detail = errorDetailOf(new DriverError('CONFLICT'));
    detail.code = 99 as pb.ErrorCode;
    const back = driverErrorOf(fromBinary(pb.ErrorDetailSchema, toBinary(pb.ErrorDetailSchema, detail)));
    expect(back.code).toBe('INTERNAL');
    expect(back.message).toContain('unknown error code 99');
    expect(errorDetailFromStatusBin(new Uint8Array([0xff, 0xff, 0xff]))).toBeUndefined();
  });
});
