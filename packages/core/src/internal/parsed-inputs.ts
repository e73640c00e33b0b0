/**
 * Values the guard produced by parsing a caller's input with a contract schema. They are
 * fresh objects the guard does not keep, already validated and with defaults applied, so
 * a driver in this package (the reference driver) may take them as they are instead of
 * parsing a second time. Any other value is parsed as usual.
 * @internal
 */
const parsed = new WeakSet<object>();

export function markContractParsed<T>(value: T): T {
  if (typeof value === 'object' && value !== null) parsed.add(value);
  return value;
}

export function isContractParsed(value: unknown): boolean {
  return typeof value === 'object' && value !== null && parsed.has(value);
}
