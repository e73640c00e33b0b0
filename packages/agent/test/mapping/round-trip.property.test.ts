import { fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import {
  ConsoleOutputSchema,
  MigrationRequestSchema,
  MigrationProgressSchema,
  MigrationTargetSchema,
  FlavorSchema,
  HostInventorySchema,
  ImageMetaSchema,
  InstanceInfoSchema,
  InstanceSpecSchema,
  InstanceSummarySchema,
  NodeInfoSchema,
  RebuildSpecSchema,
  RescueSpecSchema,
  SnapshotResultSchema,
  VifSchema,
  VolumeAttachmentSchema,
} from '@nova-common/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { flavorFromProto, flavorToProto } from '../../src/mapping/flavor.js';
import { imageMetaFromProto, imageMetaToProto } from '../../src/mapping/image-meta.js';
import { instanceInfoFromProto, instanceInfoToProto, instanceSummaryFromProto, instanceSummaryToProto } from '../../src/mapping/instance-info.js';
import { instanceSpecFromProto, instanceSpecToProto, rebuildSpecFromProto, rebuildSpecToProto, rescueSpecFromProto, rescueSpecToProto } from '../../src/mapping/instance-spec.js';
import { hostInventoryFromProto, hostInventoryToProto, nodeInfoFromProto, nodeInfoToProto } from '../../src/mapping/inventory.js';
import { vifFromProto, vifToProto } from '../../src/mapping/network-info.js';
import { volumeAttachmentFromProto, volumeAttachmentToProto } from '../../src/mapping/block-device-info.js';
import { consoleOutputFromProto, consoleOutputToProto, snapshotResultFromProto, snapshotResultToProto } from '../../src/mapping/outputs.js';
import {
  migrationProgressFromProto,
  migrationProgressToProto,
  migrationRequestFromProto,
  migrationRequestToProto,
  migrationTargetFromProto,
  migrationTargetToProto,
} from '../../src/mapping/migration.js';
import * as pb from '../../src/wire.js';
import {
  consoleOutputArb,
  flavorArb,
  hostInventoryArb,
  imageMetaArb,
  instanceInfoArb,
  instanceSpecArb,
  instanceSummaryArb,
  metadataArb,
  migrationRequestArb,
  migrationProgressArb,
  migrationTargetArb,
  nodeInfoArb,
  snapshotResultArb,
  vifArb,
  volumeAttachmentArb,
} from '../arbitraries.js';

/** Through the bytes, as the message travels: encode, then decode. */
function overTheWire<D extends DescMessage>(schema: D, message: MessageShape<D>): MessageShape<D> {
  return fromBinary(schema, toBinary(schema, message));
}

interface Concept<T> {
  name: string;
  arb: fc.Arbitrary<T>;
  schema: z.ZodType;
  wire: DescMessage;
  toProto: (value: T) => unknown;
  fromProto: (message: never) => unknown;
}

const concept = <T>(c: Concept<T>): Concept<unknown> => c as Concept<unknown>;

/** Inputs: what a caller passes; the guard parses them, so parse(back) must equal parse(original). */
const INPUTS = [
  concept({ name: 'InstanceSpec', arb: instanceSpecArb, schema: InstanceSpecSchema, wire: pb.InstanceSpecSchema, toProto: instanceSpecToProto, fromProto: instanceSpecFromProto }),
  concept({ name: 'Flavor', arb: flavorArb, schema: FlavorSchema, wire: pb.FlavorSchema, toProto: flavorToProto, fromProto: flavorFromProto }),
  concept({ name: 'ImageMeta', arb: imageMetaArb, schema: ImageMetaSchema, wire: pb.ImageMetaSchema, toProto: imageMetaToProto, fromProto: imageMetaFromProto }),
  concept({ name: 'Vif', arb: vifArb, schema: VifSchema, wire: pb.VifSchema, toProto: vifToProto, fromProto: vifFromProto }),
  concept({
    name: 'VolumeAttachment (every connection-info transport)',
    arb: volumeAttachmentArb,
    schema: VolumeAttachmentSchema,
    wire: pb.VolumeAttachmentSchema,
    toProto: volumeAttachmentToProto,
    fromProto: volumeAttachmentFromProto,
  }),
  concept({
    name: 'RebuildSpec (metadata absent, empty or set)',
    arb: fc.record({ image: imageMetaArb, metadata: metadataArb, preserveEphemeral: fc.boolean() }, { requiredKeys: ['image'] }),
    schema: RebuildSpecSchema,
    wire: pb.RebuildSpecSchema,
    toProto: rebuildSpecToProto,
    fromProto: rebuildSpecFromProto,
  }),
  concept({
    name: 'RescueSpec',
    arb: fc.record({ image: imageMetaArb, adminPassword: fc.string({ maxLength: 40 }) }, { requiredKeys: [] }),
    schema: RescueSpecSchema,
    wire: pb.RescueSpecSchema,
    toProto: rescueSpecToProto,
    fromProto: rescueSpecFromProto,
  }),
  concept({
    name: 'MigrationRequest',
    arb: migrationRequestArb,
    schema: MigrationRequestSchema,
    wire: pb.MigrationRequestSchema,
    toProto: migrationRequestToProto,
    fromProto: migrationRequestFromProto,
  }),
];

/** Outputs: what a driver returns (already parsed); they must come back exactly. */
const OUTPUTS = [
  concept({ name: 'InstanceInfo', arb: instanceInfoArb, schema: InstanceInfoSchema, wire: pb.InstanceInfoSchema, toProto: instanceInfoToProto, fromProto: instanceInfoFromProto }),
  concept({ name: 'InstanceSummary', arb: instanceSummaryArb, schema: InstanceSummarySchema, wire: pb.InstanceSummarySchema, toProto: instanceSummaryToProto, fromProto: instanceSummaryFromProto }),
  concept({ name: 'HostInventory', arb: hostInventoryArb, schema: HostInventorySchema, wire: pb.HostInventorySchema, toProto: hostInventoryToProto, fromProto: hostInventoryFromProto }),
  concept({ name: 'NodeInfo', arb: nodeInfoArb, schema: NodeInfoSchema, wire: pb.NodeInfoSchema, toProto: nodeInfoToProto, fromProto: nodeInfoFromProto }),
  concept({ name: 'ConsoleOutput', arb: consoleOutputArb, schema: ConsoleOutputSchema, wire: pb.ConsoleOutputSchema, toProto: consoleOutputToProto, fromProto: consoleOutputFromProto }),
  concept({ name: 'MigrationTarget', arb: migrationTargetArb, schema: MigrationTargetSchema, wire: pb.MigrationTargetSchema, toProto: migrationTargetToProto, fromProto: migrationTargetFromProto }),
  concept({ name: 'MigrationProgress', arb: migrationProgressArb, schema: MigrationProgressSchema, wire: pb.MigrationProgressSchema, toProto: migrationProgressToProto, fromProto: migrationProgressFromProto }),
  concept({ name: 'SnapshotResult', arb: snapshotResultArb, schema: SnapshotResultSchema, wire: pb.SnapshotResultSchema, toProto: snapshotResultToProto, fromProto: snapshotResultFromProto }),
];

describe('inputs survive the wire: parse(fromProto(bytes(toProto(x)))) equals parse(x)', () => {
  for (const c of INPUTS) {
    it(c.name, () => {
      fc.assert(
        fc.property(c.arb, (value) => {
          const expected = c.schema.parse(value);
          const back = c.fromProto(overTheWire(c.wire, c.toProto(value) as never) as never);
          expect(c.schema.parse(back)).toStrictEqual(expected);
          // The parsed form (what the remote driver sends) travels as well as the input form.
          const again = c.fromProto(overTheWire(c.wire, c.toProto(expected) as never) as never);
          expect(c.schema.parse(again)).toStrictEqual(expected);
        }),
      );
    });
  }
});

describe('outputs survive the wire exactly: fromProto(bytes(toProto(x))) equals x', () => {
  for (const c of OUTPUTS) {
    it(c.name, () => {
      fc.assert(
        fc.property(c.arb, (value) => {
          expect(c.schema.safeParse(value).success).toBe(true);
          const back = c.fromProto(overTheWire(c.wire, c.toProto(value) as never) as never);
          // structuredClone: the arbitraries build null-prototype records; the mapping builds plain ones.
          expect(back).toStrictEqual(structuredClone(value));
        }),
      );
    });
  }
});

describe('strings arrive as they were sent', () => {
  it('a leading U+FEFF (byte-order mark) in a name, a metadata key and a value is kept', () => {
    const bom = '\uFEFF';
    const value: z.infer<typeof InstanceInfoSchema> = {
      uuid: '00000000-0000-1000-8000-000000000000',
      name: `${bom}vm`,
      powerState: 'RUNNING',
      mode: 'normal',
      node: `${bom}`,
      metadata: { [`${bom}-`]: `${bom}v` },
      volumes: [],
      interfaces: [],
    };
    expect(InstanceInfoSchema.safeParse(value).success).toBe(true);
    const back = instanceInfoFromProto(overTheWire(pb.InstanceInfoSchema, instanceInfoToProto(value)));
    expect(back).toStrictEqual(structuredClone(value));
    expect(Object.keys(back.metadata)[0]?.charCodeAt(0)).toBe(0xfeff);
  });
});
