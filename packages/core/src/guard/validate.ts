import type { z } from 'zod';
import { DriverError, type InputIssue } from '../errors/driver-error.js';

function toIssues(error: z.ZodError, prefix: (string | number)[]): InputIssue[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    message: issue.message,
  }));
}

/** Parse a caller's input; on failure, INVALID_INPUT naming each offending field under `argName`. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, op: string, argName: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new DriverError('INVALID_INPUT', { op, issues: toIssues(parsed.error, [argName]) });
}

/** Check a driver's output; on failure, INTERNAL: the driver broke the contract. */
export function checkOutput<S extends z.ZodType>(schema: S, value: unknown, op: string, target?: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const where = toIssues(parsed.error, [])
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  throw new DriverError('INTERNAL', { op, target, detail: `contract violation: the driver returned invalid output (${where})` });
}
