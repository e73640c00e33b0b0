import type { z } from 'zod';
import { DriverError, errors, type InputIssue } from '../errors/driver-error.js';
import { isContractParsed } from '../internal/parsed-inputs.js';

/** zod issues -> the contract's InputIssue list, each path prefixed with the argument it came from. */
function toIssues(error: z.ZodError, prefix: (string | number)[]): InputIssue[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    message: issue.message,
  }));
}

/**
 * Parse one argument with its contract schema. The parsed value is a fresh copy, so the
 * driver never keeps a reference to the caller's object. `prefix` names the argument, as
 * the guard does (`['spec', 'flavor', 'vcpus']`).
 */
export function parseArg<S extends z.ZodType>(schema: S, value: unknown, op: string, prefix: (string | number)[]): z.output<S> {
  // The guard's parsed inputs are fresh, validated copies: take them as they are.
  if (isContractParsed(value)) return value as z.output<S>;
  const result = schema.safeParse(value);
  if (!result.success) throw errors.invalidInput(toIssues(result.error, prefix), op);
  return result.data;
}

/** One invalid field, outside any schema (e.g. a volume size smaller than the current one). */
export function invalidField(op: string, path: (string | number)[], message: string): DriverError {
  return errors.invalidInput([{ path, message }], op);
}

/** CANCELLED when the caller's signal is already aborted; checked before anything changes. */
export function checkAborted(signal: AbortSignal | undefined, op: string): void {
  if (signal?.aborted) throw new DriverError('CANCELLED', { op, detail: 'the signal was aborted before the call changed anything', cause: signal.reason });
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
