import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { guard, isDriverError, LifecycleEventSchema, RestorableStateSchema, SnapshotResultSchema } from '@nova-common/core';
import { createReferenceDriver } from '@nova-common/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventCauses, powerStates, restorableStates } from '../../src/mapping/enums.js';
import { lifecycleEventFromProto, lifecycleEventToProto } from '../../src/mapping/lifecycle-event.js';
import { WIRE_OPERATIONS } from '../../src/mapping/operations.js';
import * as pb from '../../src/wire.js';
import { restorableStateArb, snapshotResultArb, uuidArb } from '../arbitraries.js';

/** Through the bytes, as the message travels: encode, then decode. */
function overTheWire<D extends DescMessage>(schema: D, message: MessageShape<D>): MessageShape<D> {
  return fromBinary(schema, toBinary(schema, message));
}

const restore = WIRE_OPERATIONS.restoreState;
const list = WIRE_OPERATIONS.listSnapshots;

describe('RestoreState on the wire (since 1.1.0)', () => {
  it('the call the agent makes is the call the remote driver was given, with its request id', () => {
    fc.assert(
      fc.property(uuidArb, restorableStateArb, fc.uuid(), (uuid, desired, requestId) => {
        const init = { ...(restore.toRequest([uuid, desired]) as object), requestId };
        const request = overTheWire(restore.method.input, create(restore.method.input, init as never)) as pb.RestoreStateRequest;
        expect(request.requestId).toBe(requestId);
        expect(restore.toCall(request as never)).toStrictEqual({ args: [uuid, desired] });
      }),
    );
  });

  it('is a mutating call (request id, journal) with an empty answer', () => {
    expect(restore.mutating).toBe(true);
    const response = overTheWire(restore.method.output, create(restore.method.output, restore.toResponse(undefined) as never));
    expect(restore.fromResponse(response as never)).toBeUndefined();
  });

  it('the wire’s desired states are exactly the contract’s, with the numbers of PowerState', () => {
    expect(restorableStates.values).toStrictEqual(RestorableStateSchema.options);
    for (const state of RestorableStateSchema.options) expect(restorableStates.toProto(state)).toBe(powerStates.toProto(state));
  });

  it('an unset or unknown desired state reaches the guard as such, and the guard refuses it at `desired`', async () => {
    const driver = guard(createReferenceDriver());
    const uuid = '6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f';
    for (const desired of [0, 2, 6]) {
      const { args } = restore.toCall(create(pb.RestoreStateRequestSchema, { requestId: 'r', uuid, desired }) as never);
      expect(args).toStrictEqual([uuid, desired === 0 ? undefined : desired]);
      const error = await driver.call('restoreState', args as never).catch((e: unknown) => e);
      expect(isDriverError(error) && { code: error.code, paths: error.issues?.map((i) => i.path) }).toStrictEqual({ code: 'INVALID_INPUT', paths: [['desired']] });
    }
  });
});

describe('ListSnapshots on the wire (since 1.1.0)', () => {
  it('is a read without arguments', () => {
    expect(list.mutating).toBe(false);
    expect(list.toRequest([])).toStrictEqual({});
    expect(list.toCall(create(pb.ListSnapshotsRequestSchema) as never)).toStrictEqual({ args: [] });
  });

  it('the list comes back exactly, in its order', () => {
    fc.assert(
      fc.property(fc.array(snapshotResultArb, { maxLength: 6 }), (snapshots) => {
        for (const s of snapshots) expect(SnapshotResultSchema.safeParse(s).success).toBe(true);
        const response = overTheWire(list.method.output, create(list.method.output, list.toResponse(snapshots) as never));
        expect(list.fromResponse(response as never)).toStrictEqual(structuredClone(snapshots));
      }),
    );
  });
});

describe('LifecycleEvent cause and seq (since 1.1.0)', () => {
  const base = { uuid: '6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f', kind: 'STOPPED', powerState: 'SHUTDOWN', node: 'n1', timestamp: '2025-01-02T03:04:05.678Z' } as const;

  it('absent travel as UNSPECIFIED and 0 (what a 1.0 server sends) and come back absent', () => {
    const wire = lifecycleEventToProto(base);
    expect([wire.cause, wire.seq]).toStrictEqual([pb.EventCause.UNSPECIFIED, 0n]);
    expect(lifecycleEventFromProto(overTheWire(pb.LifecycleEventSchema, wire))).toStrictEqual(base);
  });

  it('each cause has its own wire value, and seq keeps every safe integer', () => {
    expect(eventCauses.toProto('requested')).toBe(pb.EventCause.REQUESTED);
    expect(eventCauses.toProto('out-of-band')).toBe(pb.EventCause.OUT_OF_BAND);
    for (const seq of [1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      const event = { ...base, cause: 'out-of-band' as const, seq };
      expect(lifecycleEventFromProto(overTheWire(pb.LifecycleEventSchema, lifecycleEventToProto(event)))).toStrictEqual(event);
    }
  });

  it('a cause number the contract lacks comes through as the number, which validation refuses at `cause`', () => {
    const back = lifecycleEventFromProto(create(pb.LifecycleEventSchema, { ...lifecycleEventToProto(base), cause: 9 as pb.EventCause }));
    expect(back.cause).toBe(9);
    const parsed = LifecycleEventSchema.safeParse(back);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path)).toStrictEqual([['cause']]);
  });
});
