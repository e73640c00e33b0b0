import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { ConnectionInfoSchema, VifSchema } from '@nova-common/core';
import { ConnectedVolumeSchema, ConnectorPropertiesSchema, PlugInstanceSchema, PluggedVifSchema } from '@nova-common/core/plugs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  connectedVolumeFromProto,
  connectedVolumeToProto,
  connectorPropertiesFromProto,
  connectorPropertiesToProto,
  plugInstanceFromProto,
  plugInstanceToProto,
  pluggedVifFromProto,
  pluggedVifToProto,
} from '../../src/mapping/plugs.js';
import { PLUG_WIRE_OPERATIONS } from '../../src/mapping/plug-operations.js';
import * as pb from '../../src/wire.js';
import { connectionInfoArb, hostPathArb, ifnameArb, macArb, uuidArb, vifArb } from '../arbitraries.js';

function overTheWire<D extends DescMessage>(schema: D, message: MessageShape<D>): MessageShape<D> {
  return fromBinary(schema, toBinary(schema, message));
}

const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const plugInstanceArb = fc.record({ uuid: uuidArb, name: opt(fc.string({ maxLength: 40 })) }).map(defined);
const pluggedVifArb = fc
  .record({
    vifId: uuidArb,
    instanceUuid: uuidArb,
    kind: fc.constantFrom('tap', 'veth' as const),
    device: ifnameArb,
    peer: opt(ifnameArb),
    bridge: opt(ifnameArb),
    address: macArb,
    mtu: opt(fc.integer({ min: 68, max: 65535 })),
  })
  .map(defined);
const connectorArb = fc
  .record({
    host: fc.string({ minLength: 1, maxLength: 60 }),
    ips: fc.array(fc.ipV4(), { maxLength: 4 }),
    initiator: opt(fc.string({ maxLength: 60 })),
    multipath: fc.boolean(),
    platform: fc.constantFrom('x86_64', 'aarch64'),
    osType: fc.constantFrom('linux2', 'linux'),
  })
  .map(defined);
const connectedVolumeArb = fc.record({ volumeId: uuidArb, kind: fc.constantFrom('file', 'block' as const), path: hostPathArb, sizeBytes: fc.maxSafeNat() }).map(defined);

interface Concept {
  name: string;
  arb: fc.Arbitrary<unknown>;
  schema: z.ZodType;
  wire: DescMessage;
  toProto: (value: never) => unknown;
  fromProto: (message: never) => unknown;
}

const CONCEPTS: Concept[] = [
  { name: 'PlugInstance', arb: plugInstanceArb, schema: PlugInstanceSchema, wire: pb.PlugInstanceSchema, toProto: plugInstanceToProto, fromProto: plugInstanceFromProto },
  { name: 'PluggedVif', arb: pluggedVifArb, schema: PluggedVifSchema, wire: pb.PluggedVifSchema, toProto: pluggedVifToProto, fromProto: pluggedVifFromProto },
  { name: 'ConnectorProperties', arb: connectorArb, schema: ConnectorPropertiesSchema, wire: pb.ConnectorPropertiesSchema, toProto: connectorPropertiesToProto, fromProto: connectorPropertiesFromProto },
  { name: 'ConnectedVolume', arb: connectedVolumeArb, schema: ConnectedVolumeSchema, wire: pb.ConnectedVolumeSchema, toProto: connectedVolumeToProto, fromProto: connectedVolumeFromProto },
];

describe('the plug contracts’ messages survive the wire exactly', () => {
  for (const c of CONCEPTS) {
    it(`${c.name}: contract → proto → bytes → proto → contract is the identity`, () => {
      fc.assert(
        fc.property(c.arb, (value) => {
          expect(c.schema.safeParse(value).success).toBe(true);
          const back = c.fromProto(overTheWire(c.wire, c.toProto(value as never) as never) as never);
          expect(back).toStrictEqual(value);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('the plug and volume requests carry their arguments: toRequest then toCall gives them back as the guard parses them', () => {
    fc.assert(
      fc.property(vifArb, plugInstanceArb, uuidArb, connectionInfoArb, (vif, instance, volumeId, info) => {
        for (const op of ['plug', 'unplug'] as const) {
          const wire = PLUG_WIRE_OPERATIONS[op];
          const [v, i] = wire.toCall(overTheWire(wire.method.input, create(wire.method.input, wire.toRequest([vif, instance]) as never)) as never);
          expect(i).toStrictEqual(instance);
          expect(VifSchema.parse(v)).toStrictEqual(VifSchema.parse(vif));
        }
        for (const op of ['connect', 'disconnect', 'extend'] as const) {
          const wire = PLUG_WIRE_OPERATIONS[op];
          const request = overTheWire(wire.method.input, create(wire.method.input, wire.toRequest([volumeId, info]) as never));
          const [id, back] = wire.toCall(request as never);
          expect(id).toBe(volumeId);
          expect(ConnectionInfoSchema.parse(back)).toStrictEqual(ConnectionInfoSchema.parse(info));
        }
      }),
      { numRuns: 100 },
    );
  });
});
