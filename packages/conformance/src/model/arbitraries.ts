import fc from 'fast-check';
import type { FlavorInput } from '@nova-common/core';
import { RUN_ID_KEY } from '../config.js';

/**
 * Generators of valid inputs, shaped after core's schemas. Only in-spec values are generated:
 * a divergence is a bug only on input the contract accepts.
 */

/** Strings users type, with the characters that break escaping: quotes, <>&, shell and path syntax, any Unicode. */
const TRICKY = [
  '"quoted"',
  "it's",
  '<b>&amp;</b>',
  'a]]>b',
  '$(touch /tmp/x)`id`',
  '../../etc/passwd',
  ' spaced  out ',
  'ünïcødé ✓',
  '名前',
  '😀👍🏽',
  '\\back\\slash',
  'tab\there',
];

/**
 * One metadata entry with everything that breaks escaping at once (quotes, `<>&`, an entity,
 * CDATA's end, shell syntax, Unicode): the table walk's instance carries it, so a driver that
 * escapes (or unescapes) metadata on its way to the backend is caught whatever the seed.
 */
export const TRICKY_METADATA: Readonly<Record<string, string>> = { 'nc-escaping': `"quoted" it's <b>&amp;</b> a]]>b $(id) ünïcødé 😀` };

const noNul = (s: string): boolean => !s.includes('\u0000');

/** A display-name fragment: arbitrary graphemes or a tricky string. */
export const nameArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }).filter(noNul) },
  { weight: 2, arbitrary: fc.constantFrom(...TRICKY) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 10 }).filter(noNul) },
);

const metadataKeyArb = fc
  .oneof(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }), fc.constantFrom('role', 'owner', 'x<y>&"z"', 'ключ'))
  .filter((k) => noNul(k) && k !== '__proto__' && k !== RUN_ID_KEY && k.length >= 1);

const metadataValueArb = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }).filter(noNul), fc.constantFrom(...TRICKY, ''));

/** Metadata without the run-id key (the suite adds it). */
export const metadataArb: fc.Arbitrary<Record<string, string>> = fc
  .uniqueArray(fc.tuple(metadataKeyArb, metadataValueArb), { maxLength: 3, selector: ([k]) => k })
  .map((entries) => Object.fromEntries(entries));

/** The smallest and largest of the small flavors the sequences spawn. */
export const FLAVOR_RANGE = { vcpus: [1, 2], memoryMb: [32, 256], rootGb: [0, 1] } as const;

/** A small flavor, named after its sizes. */
export function smallFlavor(vcpus: number, memoryMb: number, rootGb: number): FlavorInput {
  return { id: `nc-flavor-${vcpus}-${memoryMb}-${rootGb}`, name: `nc.${vcpus}c${memoryMb}m${rootGb}g`, vcpus, memoryMb, rootGb, ephemeralGb: 0, swapMb: 0, extraSpecs: {} };
}

/** Small flavors: every backend has room for a few of them. */
export const flavorArb: fc.Arbitrary<FlavorInput> = fc
  .record({
    vcpus: fc.integer({ min: FLAVOR_RANGE.vcpus[0], max: FLAVOR_RANGE.vcpus[1] }),
    memoryMb: fc.integer({ min: FLAVOR_RANGE.memoryMb[0], max: FLAVOR_RANGE.memoryMb[1] }),
    rootGb: fc.integer({ min: FLAVOR_RANGE.rootGb[0], max: FLAVOR_RANGE.rootGb[1] }),
  })
  .map(({ vcpus, memoryMb, rootGb }) => smallFlavor(vcpus, memoryMb, rootGb));

/** A flavor no real node holds: the schema's largest values. */
export const OVERSIZED_FLAVOR: FlavorInput = {
  id: 'nc-flavor-oversized',
  name: 'nc.oversized',
  vcpus: 1024,
  memoryMb: 16 * 1024 * 1024,
  rootGb: 1024 * 1024,
  ephemeralGb: 0,
  swapMb: 0,
  extraSpecs: {},
};

/** The pools one sequence draws ids from: instance uuids (the last one is never spawned), volume ids, interfaces. */
export interface Pools {
  uuids: string[];
  volumes: string[];
  vifs: { id: string; address: string }[];
}

export const POOL_VOLUMES = 3;
export const POOL_VIFS = 3;

function macOf(index: number, bytes: number[]): string {
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  return `fa:16:3e:${hex(bytes[0]!)}:${hex(bytes[1]!)}:${hex(index)}`;
}

/** 32 random bits from a seed (mulberry32), one call at a time. */
function bits(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Two hex digits per byte value. */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const byteHex = (word: number, shift: number): string => HEX[(word >>> shift) & 0xff]!;
const wordHex = (w: number): string => byteHex(w, 24) + byteHex(w, 16) + byteHex(w, 8) + byteHex(w, 0);

/**
 * The i-th uuid (version 4, lower case) of a pool drawn from `seed`: random bits, with the
 * index in the last byte so the uuids of one pool never collide.
 */
export function poolUuid(seed: number, i: number): string {
  const next = bits(seed ^ Math.imul(i + 1, 0x9e3779b9));
  const b = next();
  const c = next();
  const d = next();
  return (
    `${wordHex(next())}-${byteHex(b, 24)}${byteHex(b, 16)}-4${HEX[(b >>> 8) & 0x0f]![1]}${byteHex(b, 0)}-` +
    `${HEX[0x80 | ((c >>> 24) & 0x3f)]}${byteHex(c, 16)}-${byteHex(c, 8)}${byteHex(c, 0)}${byteHex(d, 24)}${byteHex(d, 16)}${byteHex(d, 8)}${HEX[i & 0xff]}`
  );
}

/** The pools of one sequence from one seed. */
function poolsOf(seed: number, maxInstances: number): Pools {
  const uuid = (i: number): string => poolUuid(seed, i);
  const next = bits(seed);
  const mac = next();
  return {
    uuids: Array.from({ length: maxInstances + 1 }, (_, i) => uuid(i)),
    volumes: Array.from({ length: POOL_VOLUMES }, (_, i) => uuid(maxInstances + 1 + i)),
    vifs: Array.from({ length: POOL_VIFS }, (_, i) => ({ id: uuid(maxInstances + 1 + POOL_VOLUMES + i), address: macOf(i, [(mac >>> 8) & 0xff, mac & 0xff]) })),
  };
}

/**
 * Pools are not shrunk: their values never matter, only which slot a command uses. They
 * come from one random integer (fast-check draws it from the run's seed), which is far
 * cheaper than drawing each uuid.
 */
export function poolsArb(maxInstances: number): fc.Arbitrary<Pools> {
  return fc.noShrink(fc.integer()).map((seed) => poolsOf(seed, maxInstances));
}
