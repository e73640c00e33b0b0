import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { CAPABILITY_IDS, declareCapabilities, DriverCapabilitiesSchema, LifecycleEventSchema, VifTypeSchema, type CapabilityId } from '@nova-common/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capabilitiesFromProto, capabilitiesToProto } from '../../src/mapping/capabilities.js';
import { lifecycleEventFromProto, lifecycleEventToProto, timestampFromProto, timestampToProto } from '../../src/mapping/lifecycle-event.js';
import * as pb from '../../src/wire.js';
import { lifecycleEventArb, timestampArb } from '../arbitraries.js';

const capabilitiesArb = fc
  .record({
    supported: fc.subarray(CAPABILITY_IDS),
    partial: fc.dictionary(fc.constantFrom(...CAPABILITY_IDS), fc.string({ minLength: 1, maxLength: 50 }), { maxKeys: 3, noNullPrototype: true }),
    multiNode: fc.boolean(),
    volumeTransports: fc.subarray(['file', 'block', 'iscsi', 'rbd'] as const),
    // Not declared (a driver built before 1.2.0), none, or some: the three differ on the wire.
    vifTypes: fc.option(fc.subarray([...VifTypeSchema.options]), { nil: undefined }),
    eventualConsistency: fc.record({ resourceReleaseMs: fc.nat({ max: 3_600_000 }), eventDeliveryMs: fc.nat({ max: 600_000 }), nodeAvailableMs: fc.nat({ max: 3_600_000 }) }),
  })
  .map(({ vifTypes, ...o }) => declareCapabilities({ ...o, ...(vifTypes === undefined ? {} : { vifTypes }), supported: o.supported as CapabilityId[], partial: o.partial as Partial<Record<CapabilityId, string>> }));

/** Seconds and nanoseconds of an RFC 3339 UTC text, to compare instants exactly. */
function instant(iso: string): [number, number] {
  const ms = Date.parse(iso.replace(/\.\d+Z$/, 'Z'));
  const fraction = /\.(\d+)Z$/.exec(iso)?.[1] ?? '';
  return [Math.floor(ms / 1000), Number(fraction.slice(0, 9).padEnd(9, '0'))];
}

describe('capabilities and events on the wire', () => {
  it('DriverCapabilities come back exactly', () => {
    fc.assert(
      fc.property(capabilitiesArb, (caps) => {
        expect(DriverCapabilitiesSchema.safeParse(caps).success).toBe(true);
        const back = capabilitiesFromProto(fromBinary(pb.DriverCapabilitiesSchema, toBinary(pb.DriverCapabilitiesSchema, capabilitiesToProto(caps))));
        expect(back).toStrictEqual(structuredClone(caps));
      }),
    );
  });

  it('timestamps keep their instant to the nanosecond; Date#toISOString texts come back as they went', () => {
    fc.assert(
      fc.property(timestampArb, (iso) => {
        const back = timestampFromProto(timestampToProto(iso));
        expect(instant(back)).toStrictEqual(instant(iso));
        if (/\.\d{3}Z$/.test(iso)) expect(back).toBe(iso);
      }),
    );
    expect(timestampFromProto(timestampToProto('2024-02-29T23:59Z'))).toBe('2024-02-29T23:59:00.000Z');
    expect(timestampFromProto(timestampToProto('0001-01-01T00:00:00.000000001Z'))).toBe('0001-01-01T00:00:00.000000001Z');
  });

  it('LifecycleEvents come back valid and equal but for the timestamp text, which keeps its instant', () => {
    fc.assert(
      fc.property(lifecycleEventArb, (event) => {
        const back = lifecycleEventFromProto(fromBinary(pb.LifecycleEventSchema, toBinary(pb.LifecycleEventSchema, lifecycleEventToProto(event))));
        expect(LifecycleEventSchema.safeParse(back).success).toBe(true);
        expect({ ...back, timestamp: instant(back.timestamp) }).toStrictEqual({ ...structuredClone(event), timestamp: instant(event.timestamp) });
      }),
    );
  });
});
