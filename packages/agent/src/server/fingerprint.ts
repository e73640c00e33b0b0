import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level: the same data, the same text. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/**
 * What identifies a request beyond its id: the operation and its arguments as the contract sees
 * them (not the bytes, so field order or unknown fields do not matter).
 */
export function requestFingerprint(op: string, args: readonly unknown[], options: unknown): string {
  return createHash('sha256').update(canonicalJson({ op, args, options: options ?? {} })).digest('base64url');
}
