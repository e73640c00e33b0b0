import type { z } from 'zod';
import { DriverError } from '../errors/driver-error.js';
import { issuesFromZod } from '../toolkit/issues.js';


/** Parse a caller's input; on failure, INVALID_INPUT naming each offending field under `argName`. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, op: string, argName: string): z.output<S> {
  const reserved = findReservedKey(value, [argName]);
  if (reserved) {
    throw new DriverError('INVALID_INPUT', { op, issues: [{ path: reserved, message: 'the key __proto__ is reserved' }] });
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new DriverError('INVALID_INPUT', { op, issues: issuesFromZod(parsed.error, [argName]) });
}

/**
 * The path of an own `__proto__` key anywhere in an input (JSON.parse makes them). Schema
 * parsers drop such keys silently, so the value would not come back as given; the contract
 * refuses them instead, naming the field.
 */
function findReservedKey(value: unknown, path: (string | number)[]): (string | number)[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findReservedKey(value[i], [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return [...path, '__proto__'];
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null) {
      const found = findReservedKey(child, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

/** Check a driver's output; on failure, INTERNAL: the driver broke the contract. */
export function checkOutput<S extends z.ZodType>(schema: S, value: unknown, op: string, target?: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const where = issuesFromZod(parsed.error, [])
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  throw new DriverError('INTERNAL', { op, target, detail: `contract violation: the driver returned invalid output (${where})` });
}
