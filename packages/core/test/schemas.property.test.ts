import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InstanceSpecSchema, VifSchema, VolumeAttachmentSchema, type InstanceSpecInput } from '../src/index.js';
import { instanceSpecArb, uuidArb, vifArb, volumeAttachmentArb } from './arbitraries.js';

type Path = (string | number)[];

/** Parse and fail the property with zod's issues when parsing fails. */
function mustParse(input: unknown): unknown {
  const result = InstanceSpecSchema.safeParse(input);
  if (!result.success) throw new Error(`rejected a valid spec: ${JSON.stringify(result.error.issues)}`);
  return result.data;
}

describe('InstanceSpec: valid specs', () => {
  it('parse is idempotent: parse(parse(x)) equals parse(x)', () => {
    fc.assert(
      fc.property(instanceSpecArb, (spec) => {
        const once = mustParse(spec);
        expect(mustParse(once)).toStrictEqual(once);
      }),
    );
  });

  it('survives a JSON round trip: parse(JSON(parse(x))) equals parse(x)', () => {
    fc.assert(
      fc.property(instanceSpecArb, (spec) => {
        const once = mustParse(spec);
        expect(mustParse(JSON.parse(JSON.stringify(once)))).toStrictEqual(once);
      }),
    );
  });

  it('fills every default, so the parsed form has no optional-with-default field missing', () => {
    fc.assert(
      fc.property(instanceSpecArb, (spec) => {
        const parsed = InstanceSpecSchema.parse(spec);
        expect(parsed.metadata).toBeTypeOf('object');
        expect(Array.isArray(parsed.networkInfo)).toBe(true);
        expect(Array.isArray(parsed.blockDeviceInfo.volumes)).toBe(true);
        expect(Array.isArray(parsed.blockDeviceInfo.ephemerals)).toBe(true);
        expect(parsed.powerOn).toBe(spec.powerOn ?? true);
        expect(parsed.flavor.ephemeralGb).toBe(spec.flavor.ephemeralGb ?? 0);
        expect(parsed.image.properties).toBeTypeOf('object');
      }),
    );
  });

  it('accepts the parts on their own (VIFs, volume attachments)', () => {
    fc.assert(fc.property(vifArb, (vif) => VifSchema.safeParse(vif).success));
    fc.assert(fc.property(volumeAttachmentArb, (att) => VolumeAttachmentSchema.safeParse(att).success));
  });
});

/** One way to break exactly one field of a valid spec, and the path zod must report. */
interface Mutation {
  name: string;
  arb: (spec: InstanceSpecInput) => fc.Arbitrary<{ spec: InstanceSpecInput; path: Path }>;
}

const clone = <T>(value: T): T => structuredClone(value);

function set(spec: InstanceSpecInput, path: Path, value: unknown): { spec: InstanceSpecInput; path: Path } {
  const copy = clone(spec) as unknown as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) {
    node[key] ??= {}; // an optional object left out by the arbitrary
    node = node[key] as Record<string | number, unknown>;
  }
  node[path[path.length - 1]!] = value;
  return { spec: copy as unknown as InstanceSpecInput, path };
}

const badUuid = fc.oneof(
  uuidArb.map((u) => u.slice(0, -1)),
  uuidArb.map((u) => u.replaceAll('-', '')),
  uuidArb.map((u) => `${u}0`),
  uuidArb.map((u) => `g${u.slice(1)}`),
  uuidArb.map((u) => `${u.slice(0, 19)}c${u.slice(20)}`), // variant bits outside 8, 9, a, b
  fc.constantFrom('', 'not-a-uuid', '{6f1c1a52-1b0e-4a53-9d7b-5b0d8a1f2c3e}'),
);
const controlChar = fc.integer({ min: 0, max: 0x1f }).chain((c) => fc.constantFrom(String.fromCharCode(c), '\u007f'));
const withInserted = (base: string, insert: string, at: number): string => {
  const i = Math.min(at, base.length);
  return base.slice(0, i) + insert + base.slice(i);
};

const MUTATIONS: Mutation[] = [
  { name: 'uuid: not a UUID', arb: (s) => badUuid.map((v) => set(s, ['uuid'], v)) },
  { name: 'uuid: wrong type', arb: (s) => fc.oneof(fc.integer(), fc.constant(null)).map((v) => set(s, ['uuid'], v)) },
  {
    name: 'name: empty, NUL inside or too long',
    arb: (s) =>
      fc
        .oneof(fc.constant(''), fc.nat({ max: 50 }).map((at) => withInserted('instance', '\u0000', at)), fc.constant('x'.repeat(256)))
        .map((v) => set(s, ['name'], v)),
  },
  {
    name: 'flavor.vcpus: out of range, fractional or a string',
    arb: (s) =>
      fc
        .oneof(fc.integer({ max: 0 }), fc.integer({ min: 1025 }), fc.constantFrom(1.5, '2', Number.NaN, Infinity))
        .map((v) => set(s, ['flavor', 'vcpus'], v)),
  },
  {
    name: 'flavor.memoryMb: above the maximum',
    arb: (s) => fc.integer({ min: 16 * 1024 * 1024 + 1 }).map((v) => set(s, ['flavor', 'memoryMb'], v)),
  },
  {
    name: 'flavor.id: a control character',
    arb: (s) => fc.tuple(controlChar, fc.nat({ max: 300 })).map(([c, at]) => set(s, ['flavor', 'id'], withInserted(s.flavor.id, c, at))),
  },
  { name: 'image.diskFormat: not in the enum', arb: (s) => fc.constantFrom('exe', 'QCOW2', '', 'raw ').map((v) => set(s, ['image', 'diskFormat'], v)) },
  { name: 'image.minDiskGb: negative', arb: (s) => fc.integer({ max: -1 }).map((v) => set(s, ['image', 'minDiskGb'], v)) },
  { name: 'image.properties.hwMachineType: shell metacharacters', arb: (s) => fc.constantFrom('q35; rm -rf /', 'pc$(id)', '').map((v) => set(s, ['image', 'properties', 'hwMachineType'], v)) },
  { name: 'powerOn: not a boolean', arb: (s) => fc.constantFrom('yes', 1, 'true').map((v) => set(s, ['powerOn'], v)) },
  { name: 'userData: not base64', arb: (s) => fc.constantFrom('not base64!', 'abc', '====').map((v) => set(s, ['userData'], v)) },
  { name: 'node: empty', arb: (s) => fc.constant(set(s, ['node'], '')) },
  {
    name: 'metadata: a value too long',
    arb: (s) =>
      // Not `__proto__`: schema parsers drop that key (the guard refuses it before parsing, see validate.ts).
      fc.string({ minLength: 1, maxLength: 10 }).filter((k) => k !== '__proto__').map((k) => ({
        spec: { ...clone(s), metadata: { ...(s.metadata ?? {}), [k]: 'v'.repeat(256) } },
        path: ['metadata', k],
      })),
  },
  {
    name: 'networkInfo[i].address: not a MAC',
    arb: (s) =>
      fc
        .tuple(vifArb.filter((v) => !(s.networkInfo ?? []).some((o) => o.id === v.id)), fc.constantFrom('fa:16:3e:00:00', 'fa-16-3e-00-00-01', 'zz:16:3e:00:00:01'))
        .map(([vif, mac]) => {
          const vifs = [...(s.networkInfo ?? []), { ...vif, address: mac }];
          return { spec: { ...clone(s), networkInfo: vifs }, path: ['networkInfo', vifs.length - 1, 'address'] };
        }),
  },
  {
    name: 'networkInfo[i].network.mtu: out of range',
    arb: (s) =>
      fc
        .tuple(vifArb.filter((v) => !(s.networkInfo ?? []).some((o) => o.id === v.id)), fc.constantFrom(67, 65536, 0))
        .map(([vif, mtu]) => {
          const vifs = [...(s.networkInfo ?? []), { ...vif, network: { ...vif.network, mtu } }];
          return { spec: { ...clone(s), networkInfo: vifs }, path: ['networkInfo', vifs.length - 1, 'network', 'mtu'] };
        }),
  },
  {
    name: 'blockDeviceInfo.volumes[i].connectionInfo.path: `..`, control characters or relative',
    arb: (s) =>
      fc
        .tuple(
          uuidArb.filter((id) => !(s.blockDeviceInfo?.volumes ?? []).some((v) => v.volumeId === id)),
          fc.oneof(
            fc.constantFrom('/var/lib/nova/../../etc/shadow', '/..', '/a/b/..', 'var/lib/disk.img', '/'),
            controlChar.map((c) => `/var/lib/disk${c}.img`),
          ),
        )
        .map(([volumeId, path]) => {
          const volumes = [...(s.blockDeviceInfo?.volumes ?? []), { volumeId, connectionInfo: { driverVolumeType: 'file' as const, path } }];
          return {
            spec: { ...clone(s), blockDeviceInfo: { ...(s.blockDeviceInfo ?? {}), volumes } },
            path: ['blockDeviceInfo', 'volumes', volumes.length - 1, 'connectionInfo', 'path'],
          };
        }),
  },
];

describe('InstanceSpec: a spec with one bad field', () => {
  it('is rejected, and every issue names exactly that field', () => {
    const cases = instanceSpecArb.chain((spec) =>
      fc.integer({ min: 0, max: MUTATIONS.length - 1 }).chain((i) => MUTATIONS[i]!.arb(spec).map((m) => ({ ...m, name: MUTATIONS[i]!.name }))),
    );
    fc.assert(
      fc.property(cases, ({ spec, path, name }) => {
        const result = InstanceSpecSchema.safeParse(spec);
        expect(result.success, `${name} was accepted`).toBe(false);
        const paths = result.error!.issues.map((issue) => issue.path);
        expect(paths.length, name).toBeGreaterThan(0);
        for (const p of paths) expect(p, name).toEqual(path);
      }),
      { numRuns: 400 },
    );
  });

  it('every mutation kind is exercised (each one alone, 25 runs)', () => {
    for (const mutation of MUTATIONS) {
      fc.assert(
        fc.property(instanceSpecArb.chain(mutation.arb), ({ spec, path }) => {
          const result = InstanceSpecSchema.safeParse(spec);
          expect(result.success, `${mutation.name} was accepted`).toBe(false);
          expect(result.error!.issues.map((i) => i.path), mutation.name).toEqual(result.error!.issues.map(() => path));
        }),
        { numRuns: 25 },
      );
    }
  });

  it('an unknown top-level key is rejected at the root, naming the key', () => {
    fc.assert(
      fc.property(instanceSpecArb, fc.constantFrom('hostname', 'vmState', 'taskState', 'extra'), (spec, key) => {
        const result = InstanceSpecSchema.safeParse({ ...spec, [key]: 1 });
        expect(result.success).toBe(false);
        expect(result.error!.issues).toHaveLength(1);
        expect(result.error!.issues[0]).toMatchObject({ code: 'unrecognized_keys', path: [], keys: [key] });
      }),
    );
  });
});
