import type { z } from 'zod';
import { DriverError, type InputIssue } from '../errors/driver-error.js';

/** zod's issues as the contract's input issues, each path under `prefix` (e.g. `['config']`). */
export function issuesFromZod(error: z.ZodError, prefix: readonly (string | number)[] = []): InputIssue[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    message: issue.message,
  }));
}

/**
 * Parse a value a driver reads from outside the contract (its configuration, a fixture file)
 * with `schema`; on failure, INVALID_INPUT naming every offending field under `prefix`.
 * Contract arguments never need this: the guard parsed them before the driver sees them.
 */
export function parseOrInvalid<S extends z.ZodType>(schema: S, value: unknown, op: string, prefix: readonly (string | number)[]): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new DriverError('INVALID_INPUT', { op, issues: issuesFromZod(parsed.error, prefix) });
}
