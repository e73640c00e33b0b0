import { DriverError } from '../errors/driver-error.js';
import { OPERATIONS, type ArgumentDescriptor, type OperationName } from '../operations/registry.js';
import { UuidSchema } from '../schemas/common.js';
import { issuesFromZod } from '../toolkit/issues.js';
import { parseInput } from './validate.js';

/** The canonical uuid form (a strict subset of what UuidSchema accepts): the fast path. */
const CANONICAL_UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/;

/** What the guard hands on for one call: parsed arguments, the queue key, the option fields. */
export interface ParsedCall {
  args: unknown[];
  /** The per-instance queue key (a canonical lower-case uuid), or the snapshot's image key. */
  key: string | undefined;
  /** The operation's own option fields, parsed (powerOff's gracefulTimeoutMs). */
  fields: Record<string, unknown> | undefined;
}

/**
 * One instance is one instance whatever the letter case of its uuid: every uuid the guard
 * hands to a driver is lower-case, and so is the queue key.
 */
function canonicalUuid(op: string, value: unknown, name: string): string {
  if (typeof value === 'string' && CANONICAL_UUID.test(value)) return value.toLowerCase();
  return parseInput(UuidSchema, value, op, name).toLowerCase();
}

function parseArgument(op: OperationName, descriptor: ArgumentDescriptor, value: unknown): unknown {
  switch (descriptor.role) {
    case 'instance':
    case 'id':
      return canonicalUuid(op, value, descriptor.name);
    default: {
      const parsed = parseInput(descriptor.schema, value, op, descriptor.name);
      (descriptor.canonicalise as ((p: unknown) => void) | undefined)?.(parsed);
      return parsed;
    }
  }
}

/** Parse a call's positional arguments and options as the registry describes them. */
export function parseCall(op: OperationName, given: readonly unknown[], options: object | undefined): ParsedCall {
  const descriptors = OPERATIONS[op].args as readonly ArgumentDescriptor[];
  // The most frequent shape, one instance uuid and no option fields: no loop, no option parse.
  if (descriptors.length === 1 && descriptors[0]!.role === 'instance' && OPERATIONS[op].options === null) {
    const uuid = canonicalUuid(op, given[0], 'uuid');
    return { args: [uuid], key: uuid, fields: undefined };
  }
  const args = new Array<unknown>(descriptors.length);
  let key: string | undefined;
  for (let i = 0; i < descriptors.length; i++) {
    const d = descriptors[i]!;
    const value = parseArgument(op, d, given[i]);
    args[i] = value;
    if (d.role === 'instance') key = value as string;
    else if (d.role === 'instanceSpec') key = (value as { uuid: string }).uuid;
    else if (d.role === 'image' && key === undefined) key = `snapshot:${String(value)}`;
    else if (d.queueKey !== undefined && key === undefined) key = (d.queueKey as (p: unknown) => string)(value);
  }
  const schema = OPERATIONS[op].options;
  let fields: Record<string, unknown> | undefined;
  if (schema !== null) {
    // Parsed also when absent, so the driver receives the option's default.
    const { signal: _signal, ...rest } = (options ?? {}) as Record<string, unknown>;
    const parsed = schema.safeParse(rest);
    if (!parsed.success) throw new DriverError('INVALID_INPUT', { op, issues: issuesFromZod(parsed.error) });
    fields = parsed.data as Record<string, unknown>;
  }
  return { args, key, fields };
}
