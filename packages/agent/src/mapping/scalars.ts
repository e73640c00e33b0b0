/**
 * Scalars between the contract (JavaScript numbers, plain records) and protobuf-es (bigint for
 * 64-bit fields, map objects). Wire-to-contract conversions never throw: a value the contract
 * cannot hold (a uint64 past 2^53) comes out as a number the guard's validation refuses, at
 * its field.
 */

/** A contract integer as a uint64 field. */
export function u64(value: number): bigint {
  return BigInt(value);
}

/** A uint64 field as a contract number (imprecise, and so refused by validation, past 2^53). */
export function num(value: bigint): number {
  return Number(value);
}

/** An optional contract integer as an optional uint64 field. */
export function optU64(value: number | undefined): bigint | undefined {
  return value === undefined ? undefined : BigInt(value);
}

export function optNum(value: bigint | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

/**
 * A copy of a string map as an own-property record. Object.fromEntries defines keys (a key
 * named `__proto__` stays an own key, which the guard then refuses, rather than a prototype).
 */
export function record<V>(map: { readonly [key: string]: V }): Record<string, V> {
  return Object.fromEntries(Object.entries(map));
}

/** The same record with each value mapped. */
export function mapRecord<A, B>(map: { readonly [key: string]: A }, fn: (value: A) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, fn(v)]));
}

/** `{ [key]: value }` when the value is defined, `{}` otherwise (optional fields stay absent). */
export function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
