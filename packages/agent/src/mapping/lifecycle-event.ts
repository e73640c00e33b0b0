import { create } from '@bufbuild/protobuf';
import { TimestampSchema, type Timestamp } from '@bufbuild/protobuf/wkt';
import type { LifecycleEvent } from '@nova-common/core';
import * as pb from '../wire.js';
import { eventCauses, fromProto, lifecycleEventKinds, optToProto, powerStates } from './enums.js';
import { opt } from './scalars.js';

const RFC3339_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?Z$/;

/**
 * The contract's timestamp (RFC 3339, UTC, `Z`) as a google.protobuf.Timestamp, to the
 * nanosecond (digits past the ninth are dropped).
 */
export function timestampToProto(iso: string): Timestamp {
  const m = RFC3339_UTC.exec(iso);
  if (m === null) throw new TypeError(`${iso} is not an RFC 3339 UTC timestamp`);
  const [, y, mo, d, h, mi, s, frac] = m;
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s ?? 0), 0);
  const nanos = frac === undefined ? 0 : Number(frac.slice(0, 9).padEnd(9, '0'));
  return create(TimestampSchema, { seconds: BigInt(date.getTime() / 1000), nanos });
}

/**
 * A Timestamp as the contract's RFC 3339 text: milliseconds when the nanoseconds are whole
 * milliseconds (what `Date.prototype.toISOString` writes, so such values come back as they
 * went), nine digits otherwise.
 */
export function timestampFromProto(ts: Timestamp | undefined): string {
  if (ts === undefined) return undefined as unknown as string;
  const base = new Date(Number(ts.seconds) * 1000).toISOString().slice(0, 19);
  const fraction = ts.nanos % 1_000_000 === 0 ? String(ts.nanos / 1_000_000).padStart(3, '0') : String(ts.nanos).padStart(9, '0');
  return `${base}.${fraction}Z`;
}

/**
 * An event on the wire. `cause` and `seq` (since 1.1.0) are plain proto3 fields: an absent
 * cause travels as EVENT_CAUSE_UNSPECIFIED and an absent seq as 0, both of which read back as
 * absent (the contract's seq starts at 1).
 */
export function lifecycleEventToProto(e: LifecycleEvent): pb.LifecycleEvent {
  return create(pb.LifecycleEventSchema, {
    uuid: e.uuid,
    kind: lifecycleEventKinds.toProto(e.kind),
    powerState: powerStates.toProto(e.powerState),
    node: e.node,
    timestamp: timestampToProto(e.timestamp),
    cause: optToProto(eventCauses, e.cause) ?? 0,
    seq: BigInt(e.seq ?? 0),
  });
}

/** The contract's event; an unknown cause number comes through as the number, for validation to refuse. */
export function lifecycleEventFromProto(e: pb.LifecycleEvent): LifecycleEvent {
  return {
    uuid: e.uuid,
    kind: fromProto(lifecycleEventKinds, e.kind),
    powerState: fromProto(powerStates, e.powerState),
    node: e.node,
    timestamp: timestampFromProto(e.timestamp),
    ...opt('cause', fromProto(eventCauses, e.cause) as LifecycleEvent['cause']),
    ...opt('seq', e.seq === 0n ? undefined : Number(e.seq)),
  };
}
