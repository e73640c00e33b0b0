/**
 * The JSON Schema export of core's public data schemas, built with zod 4's own
 * z.toJSONSchema. Shared by scripts/write-json-schemas.ts (writes schemas/*.schema.json)
 * and the test that fails when the committed files are stale.
 */
import { z } from 'zod';
import {
  BlockDeviceInfoSchema,
  CONTRACT_VERSION,
  ConsoleOutputSchema,
  DriverCapabilitiesSchema,
  FlavorSchema,
  HostInventorySchema,
  ImageMetaSchema,
  InstanceInfoSchema,
  InstanceSpecSchema,
  InstanceSummarySchema,
  LifecycleEventSchema,
  MigrationRequestSchema,
  MigrationProgressSchema,
  MigrationTargetSchema,
  NetworkInfoSchema,
  NodeInfoSchema,
  RebuildSpecSchema,
  RescueSpecSchema,
  SnapshotResultSchema,
  VifSchema,
  VolumeAttachmentSchema,
} from '../src/index.js';

/**
 * `input`: data a caller hands to a driver; fields with defaults may be left out, so the
 * schema describes what parse accepts. `output`: data a driver returns, fully populated.
 */
type Io = 'input' | 'output';

interface Source {
  /** File stem: schemas/<file>.schema.json. */
  file: string;
  /** The exported TypeScript type it describes. */
  title: string;
  schema: z.ZodType;
  io: Io;
  description: string;
}

export const JSON_SCHEMA_SOURCES: readonly Source[] = [
  { file: 'instance-spec', title: 'InstanceSpec', schema: InstanceSpecSchema, io: 'input', description: 'Everything a driver needs to create an instance (the argument of spawn).' },
  { file: 'flavor', title: 'Flavor', schema: FlavorSchema, io: 'input', description: 'The size of an instance.' },
  { file: 'image-meta', title: 'ImageMeta', schema: ImageMetaSchema, io: 'input', description: 'Image metadata: what the image is and the hardware it expects.' },
  { file: 'vif', title: 'Vif', schema: VifSchema, io: 'input', description: 'A virtual interface (Neutron port) as the network service hands it to the compute driver.' },
  { file: 'network-info', title: 'NetworkInfo', schema: NetworkInfoSchema, io: 'input', description: 'The virtual interfaces of an instance; VIF ids are unique.' },
  { file: 'block-device-info', title: 'BlockDeviceInfo', schema: BlockDeviceInfoSchema, io: 'input', description: "Nova's block_device_info: root device, ephemerals, swap and volumes." },
  { file: 'volume-attachment', title: 'VolumeAttachment', schema: VolumeAttachmentSchema, io: 'input', description: 'One volume attachment (the argument of attachVolume).' },
  { file: 'rebuild-spec', title: 'RebuildSpec', schema: RebuildSpecSchema, io: 'input', description: 'The arguments of rebuild.' },
  { file: 'rescue-spec', title: 'RescueSpec', schema: RescueSpecSchema, io: 'input', description: 'The arguments of rescue.' },
  { file: 'migration-request', title: 'MigrationRequest', schema: MigrationRequestSchema, io: 'input', description: 'What a caller asks a destination to prepare (the argument of prepareMigration, since 1.2.0).' },
  { file: 'migration-target', title: 'MigrationTarget', schema: MigrationTargetSchema, io: 'output', description: 'Where a source sends an instance: what prepareMigration answers and migrate takes (since 1.2.0).' },
  { file: 'migration-progress', title: 'MigrationProgress', schema: MigrationProgressSchema, io: 'output', description: 'Where a migration stands on its source: what getMigrationProgress answers (since 1.2.0).' },
  { file: 'instance-info', title: 'InstanceInfo', schema: InstanceInfoSchema, io: 'output', description: 'What getInfo reports about one instance.' },
  { file: 'instance-summary', title: 'InstanceSummary', schema: InstanceSummarySchema, io: 'output', description: 'One entry of listInstances.' },
  { file: 'host-inventory', title: 'HostInventory', schema: HostInventorySchema, io: 'output', description: 'The inventory of every node the host manages (getInventory).' },
  { file: 'node-info', title: 'NodeInfo', schema: NodeInfoSchema, io: 'output', description: 'A node the host manages (listNodes).' },
  { file: 'console-output', title: 'ConsoleOutput', schema: ConsoleOutputSchema, io: 'output', description: "The tail of an instance's console log." },
  { file: 'snapshot-result', title: 'SnapshotResult', schema: SnapshotResultSchema, io: 'output', description: 'The image a snapshot produced.' },
  { file: 'lifecycle-event', title: 'LifecycleEvent', schema: LifecycleEventSchema, io: 'output', description: 'A power transition the driver observed.' },
  { file: 'driver-capabilities', title: 'DriverCapabilities', schema: DriverCapabilitiesSchema, io: 'output', description: 'What a driver supports (getCapabilities).' },
];

const major = CONTRACT_VERSION.split('.')[0];

/** The formats JSON Schema 2020-12 defines; zod also emits its own (base64, cidrv4, cidrv6). */
const STANDARD_FORMATS = new Set([
  'date-time', 'date', 'time', 'duration', 'email', 'idn-email', 'hostname', 'idn-hostname', 'ipv4', 'ipv6',
  'uri', 'uri-reference', 'iri', 'iri-reference', 'uuid', 'uri-template', 'json-pointer', 'relative-json-pointer', 'regex',
]);

/**
 * IPv6 text as RFC 3986 (section 3.2.2) defines it, embedded IPv4 included. zod checks
 * IPv6 with the WHATWG URL parser, which accepts exactly these forms, but the `pattern`
 * it writes into JSON Schema omits the embedded-IPv4 ones (`::ffff:192.0.2.1`); this
 * pattern replaces it so both validators agree (test/json-schemas.test.ts checks that).
 */
function ipv6Source(): string {
  const h16 = '[0-9a-fA-F]{1,4}';
  const decOctet = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
  const ipv4 = `${decOctet}(?:\\.${decOctet}){3}`;
  const ls32 = `(?:${h16}:${h16}|${ipv4})`;
  const upTo = (n: number) => (n < 0 ? '' : n === 0 ? `(?:${h16})?` : `(?:(?:${h16}:){0,${n}}${h16})?`);
  const forms = [
    `(?:${h16}:){6}${ls32}`,
    `::(?:${h16}:){5}${ls32}`,
    `${upTo(0)}::(?:${h16}:){4}${ls32}`,
    `${upTo(1)}::(?:${h16}:){3}${ls32}`,
    `${upTo(2)}::(?:${h16}:){2}${ls32}`,
    `${upTo(3)}::${h16}:${ls32}`,
    `${upTo(4)}::${ls32}`,
    `${upTo(5)}::${h16}`,
    `${upTo(6)}::`,
  ];
  return `(?:${forms.join('|')})`;
}
export const IPV6_PATTERN = `^${ipv6Source()}$`;
export const CIDRV6_PATTERN = `^${ipv6Source()}\\/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9])$`;

/**
 * Drop zod-only `format` values so standard validators do not reject the schema for an
 * unknown format. Nothing is lost: zod emits a `pattern` (and for base64 a
 * `contentEncoding`) next to each of them, which says the same thing in standard terms.
 */
function adjustFormat({ jsonSchema }: { jsonSchema: Record<string, unknown> }): void {
  const format = jsonSchema.format;
  if (format === 'ipv6') jsonSchema.pattern = IPV6_PATTERN;
  if (format === 'cidrv6') jsonSchema.pattern = CIDRV6_PATTERN;
  if (typeof format !== 'string' || STANDARD_FORMATS.has(format)) return;
  if (typeof jsonSchema.pattern !== 'string') throw new Error(`format ${format} has no pattern to fall back on`);
  delete jsonSchema.format;
}

/** The $id of a schema file: stable within a contract major version. */
export function schemaId(file: string): string {
  return `urn:nova-common:core:v${major}:${file}`;
}

/** Build every JSON Schema, keyed by file name (`instance-spec.schema.json`). */
export function buildJsonSchemas(): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const source of JSON_SCHEMA_SOURCES) {
    const generated = z.toJSONSchema(source.schema, {
      target: 'draft-2020-12',
      io: source.io,
      unrepresentable: 'throw',
      override: adjustFormat,
    }) as Record<string, unknown>;
    const { $schema, ...body } = generated;
    out.set(`${source.file}.schema.json`, {
      $schema,
      $id: schemaId(source.file),
      title: source.title,
      description: source.description,
      ...body,
    });
  }
  return out;
}

/** The exact text written to disk for one schema. */
export function serialise(schema: Record<string, unknown>): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
