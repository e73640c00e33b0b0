import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CAPABILITY_IDS,
  DriverCapabilitiesSchema,
  HostInventorySchema,
  InstanceInfoSchema,
  InstanceSpecSchema,
  LifecycleEventSchema,
  declareCapabilities,
} from '../src/index.js';
import { exports as resolveExports } from 'resolve.exports';
import { z } from 'zod';
import { CIDRV6_PATTERN, IPV6_PATTERN, JSON_SCHEMA_SOURCES, buildJsonSchemas, schemaId, serialise } from '../scripts/json-schemas.js';
import { flavorArb, imageMetaArb, instanceSpecArb, vifArb, volumeAttachmentArb } from './arbitraries.js';

const schemasDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');
const generated = buildJsonSchemas();

function committed(name: string): string {
  return readFileSync(join(schemasDir, name), 'utf8');
}

describe('schemas/*.schema.json', () => {
  it('covers every public data schema, one file each', () => {
    expect([...generated.keys()].sort()).toEqual(
      [
        'block-device-info',
        'console-output',
        'driver-capabilities',
        'flavor',
        'host-inventory',
        'image-meta',
        'instance-info',
        'instance-spec',
        'instance-summary',
        'lifecycle-event',
        'migration-progress',
        'migration-request',
        'migration-target',
        'network-info',
        'node-info',
        'rebuild-spec',
        'rescue-spec',
        'snapshot-result',
        'vif',
        'volume-attachment',
      ].map((n) => `${n}.schema.json`),
    );
  });

  it('are up to date with the zod sources (run `pnpm --filter @nova-common/core schemas:write` when this fails)', () => {
    const onDisk = readdirSync(schemasDir).filter((n) => n.endsWith('.schema.json')).sort();
    expect(onDisk, 'files in schemas/ differ from the generated set').toEqual([...generated.keys()].sort());
    for (const [name, schema] of generated) {
      expect(committed(name), `${name} is stale`).toBe(serialise(schema));
    }
  });

  it('are published: in package.json `files` and reachable as @nova-common/core/schemas/<name>.schema.json', () => {
    const pkgDir = join(schemasDir, '..');
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { name: string; files: string[] };
    expect(pkg.files).toContain('schemas');
    for (const name of generated.keys()) {
      for (const require of [false, true]) {
        const [target] = resolveExports(pkg, `./schemas/${name}`, { require }) ?? [];
        expect(target).toBe(`./schemas/${name}`);
        expect(existsSync(join(pkgDir, target!))).toBe(true);
      }
    }
  });

  it('each has a $schema, a unique $id and a title naming its type', () => {
    const ids = new Set<string>();
    for (const source of JSON_SCHEMA_SOURCES) {
      const schema = JSON.parse(committed(`${source.file}.schema.json`)) as Record<string, unknown>;
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.$id).toBe(schemaId(source.file));
      expect(schema.title).toBe(source.title);
      ids.add(schema.$id as string);
    }
    expect(ids.size).toBe(JSON_SCHEMA_SOURCES.length);
  });
});

describe('the JSON Schemas work in a standard validator (Ajv, draft 2020-12, strict mode)', () => {
  // strictRequired is Ajv's own lint, off by default: zod writes an exhaustive record
  // (DriverCapabilities.capabilities) as propertyNames + required, which is valid 2020-12
  // but lists required keys outside `properties`.
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  addFormats.default(ajv);
  for (const name of generated.keys()) ajv.addSchema(JSON.parse(committed(name)) as object);
  const validator = (file: string) => {
    const v = ajv.getSchema(schemaId(file));
    if (v === undefined) throw new Error(`schema ${file} did not compile`);
    return v;
  };

  it('every file compiles', () => {
    for (const source of JSON_SCHEMA_SOURCES) expect(() => validator(source.file)).not.toThrow();
  });

  const spec = {
    uuid: '6f1c1a52-1b0e-4a53-9d7b-5b0d8a1f2c3e',
    name: 'web-1',
    flavor: { id: 'f1', name: 'm1.small', vcpus: 2, memoryMb: 2048, rootGb: 20 },
    image: { id: 'cirros', diskFormat: 'qcow2', containerFormat: 'bare' },
    networkInfo: [
      {
        id: '0d6e4a8e-5a9a-4d57-8a8e-3b3c1f0e9a11',
        address: 'fa:16:3e:00:00:01',
        network: { id: 'net-1', subnets: [{ cidr: '192.0.2.0/24', ips: [{ address: '192.0.2.10' }] }] },
      },
    ],
    blockDeviceInfo: {
      volumes: [
        {
          volumeId: '3a9f2b7c-2d4e-4f6a-9b8c-7d6e5f4a3b2c',
          connectionInfo: { driverVolumeType: 'file', path: '/var/lib/volumes/v1.img' },
        },
      ],
    },
  };

  it('an InstanceSpec input is accepted, and the same document with one bad field is refused at that field', () => {
    const validate = validator('instance-spec');
    expect(validate(spec), JSON.stringify(validate.errors)).toBe(true);
    expect(InstanceSpecSchema.safeParse(spec).success).toBe(true);

    const badUuid = { ...spec, uuid: 'not-a-uuid' };
    expect(validate(badUuid)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toContain('/uuid');

    const extraKey = { ...spec, vmState: 'active' };
    expect(validate(extraKey)).toBe(false);
    expect(validate.errors?.[0]?.keyword).toBe('additionalProperties');

    const badVcpus = { ...spec, flavor: { ...spec.flavor, vcpus: 0 } };
    expect(validate(badVcpus)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toContain('/flavor/vcpus');

    const relativePath = structuredClone(spec);
    relativePath.blockDeviceInfo.volumes[0]!.connectionInfo.path = 'var/lib/v1.img';
    expect(validate(relativePath)).toBe(false);
  });

  it('every InstanceSpec the property generator produces is accepted by the JSON Schema as well', () => {
    const validate = validator('instance-spec');
    fc.assert(
      fc.property(instanceSpecArb, (input) => {
        if (!validate(input)) throw new Error(JSON.stringify(validate.errors));
      }),
      { numRuns: 200 },
    );
  });

  it('the part schemas accept every generated part (Flavor, ImageMeta, Vif, VolumeAttachment)', () => {
    const parts: [string, fc.Arbitrary<unknown>][] = [
      ['flavor', flavorArb],
      ['image-meta', imageMetaArb],
      ['vif', vifArb],
      ['volume-attachment', volumeAttachmentArb],
    ];
    for (const [file, arb] of parts) {
      const validate = validator(file);
      fc.assert(
        fc.property(arb, (input) => {
          if (!validate(input)) throw new Error(`${file}: ${JSON.stringify(validate.errors)}`);
        }),
      );
    }
  });

  it('driver outputs parsed by zod are accepted by the output schemas', () => {
    const info = InstanceInfoSchema.parse({
      uuid: spec.uuid,
      name: 'web-1',
      powerState: 'RUNNING',
      mode: 'normal',
      node: 'host-1',
      metadata: {},
      volumes: [],
      interfaces: [{ id: spec.networkInfo[0]!.id, address: 'fa:16:3e:00:00:01' }],
    });
    expect(validator('instance-info')(info)).toBe(true);

    const caps = DriverCapabilitiesSchema.parse(declareCapabilities({ supported: ['operation.pause', 'operation.unpause'] }));
    const validateCaps = validator('driver-capabilities');
    expect(validateCaps(caps), JSON.stringify(validateCaps.errors)).toBe(true);
    expect(validateCaps({ ...caps, capabilities: { ...caps.capabilities, 'operation.teleport': { level: 'complete' } } })).toBe(false);
    expect(Object.keys(caps.capabilities)).toHaveLength(CAPABILITY_IDS.length);

    const inventory = HostInventorySchema.parse({
      nodes: [
        {
          node: 'host-1',
          resources: { VCPU: { total: 8, reserved: 0, used: 2, minUnit: 1, maxUnit: 8, stepSize: 1, allocationRatio: 4 } },
          traits: ['HW_CPU_X86_AVX2'],
        },
      ],
    });
    expect(validator('host-inventory')(inventory)).toBe(true);
    expect(validator('host-inventory')({ nodes: [{ ...inventory.nodes[0], resources: { vcpu: inventory.nodes[0]!.resources.VCPU } }] })).toBe(false);

    const event = LifecycleEventSchema.parse({
      uuid: spec.uuid,
      kind: 'STOPPED',
      powerState: 'SHUTDOWN',
      node: 'host-1',
      timestamp: '2025-01-02T03:04:05.678Z',
    });
    const validateEvent = validator('lifecycle-event');
    expect(validateEvent(event)).toBe(true);
    expect(validateEvent({ ...event, timestamp: 'yesterday' })).toBe(false);
    expect(validateEvent({ ...event, kind: 'EXPLODED' })).toBe(false);
  });

  it('output schemas require the fields zod fills with defaults; input schemas do not', () => {
    const flavorInput = validator('flavor');
    expect(flavorInput({ id: 'f', name: 'f', vcpus: 1, memoryMb: 1, rootGb: 0 })).toBe(true);
    const required = (file: string) => (JSON.parse(committed(`${file}.schema.json`)) as { required?: string[] }).required ?? [];
    expect(required('instance-spec')).toEqual(['uuid', 'name', 'flavor', 'image']);
    expect(required('instance-info')).toEqual(['uuid', 'name', 'powerState', 'mode', 'node', 'metadata', 'volumes', 'interfaces']);
  });
});

describe('the IPv6 patterns written into the JSON Schemas accept exactly what zod accepts', () => {
  const ipv6 = new RegExp(IPV6_PATTERN, 'u');
  const cidrv6 = new RegExp(CIDRV6_PATTERN, 'u');
  const alphabet = fc.constantFrom(...'0123456789abcdefABCDEF:.:.:'.split(''));
  // Valid addresses, the same with one character inserted or removed, and random text.
  const near = fc.oneof(
    fc.ipV6(),
    fc.tuple(fc.ipV6(), fc.nat(), alphabet).map(([a, i, c]) => a.slice(0, i % (a.length + 1)) + c + a.slice(i % (a.length + 1))),
    fc.tuple(fc.ipV6(), fc.nat()).map(([a, i]) => a.slice(0, i % a.length) + a.slice((i % a.length) + 1)),
    fc.string({ unit: alphabet, maxLength: 45 }),
  );

  it('for addresses', () => {
    const zodIpv6 = z.ipv6();
    fc.assert(
      fc.property(near, (text) => {
        expect(ipv6.test(text), text).toBe(zodIpv6.safeParse(text).success);
      }),
      { numRuns: 3000 },
    );
  });

  it('for CIDRs', () => {
    const zodCidrv6 = z.cidrv6();
    const prefix = fc.oneof(fc.integer({ min: 0, max: 140 }).map(String), fc.constantFrom('', '01', '+1', '1.0', '-0'));
    fc.assert(
      fc.property(near, prefix, (address, bits) => {
        const text = `${address}/${bits}`;
        expect(cidrv6.test(text), text).toBe(zodCidrv6.safeParse(text).success);
      }),
      { numRuns: 3000 },
    );
  });
});
