import { errors, type DriverError } from '../errors/driver-error.js';

/** One invalid field, outside any schema (e.g. a volume size smaller than the current one). */
export function invalidField(op: string, path: (string | number)[], message: string): DriverError {
  return errors.invalidInput([{ path, message }], op);
}

/**
 * Copy string->string metadata without losing keys such as `__proto__`: object spread
 * defines own data properties (where assignment would set the prototype, which is why
 * schema parsers drop such keys); the contract says metadata comes back unchanged.
 * Spread is also some 30x faster than Object.fromEntries(Object.entries(m)).
 */
export function copyMetadata(metadata: Readonly<Record<string, string>>): Record<string, string> {
  return { ...metadata };
}
