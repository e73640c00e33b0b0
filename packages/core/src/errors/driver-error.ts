import { ERROR_CODES, isErrorCode, type ErrorCode } from './codes.js';
import type { PowerState } from '../schemas/power-state.js';

/** One problem with an input, zod-style: where it is and what is wrong. */
export interface InputIssue {
  /** Path of the offending field, e.g. `['flavor', 'vcpus']`. */
  path: (string | number)[];
  message: string;
}

export interface DriverErrorOptions {
  /** The operation that failed (`pause`, `spawn`, ...). */
  op?: string;
  /** What it failed on: an instance uuid, a node id, a volume id. */
  target?: string;
  /** For INVALID_INPUT: each offending field. */
  issues?: InputIssue[];
  /** For INVALID_STATE: the state the instance was in. */
  currentState?: PowerState | 'RESCUE';
  /** For UNSUPPORTED: the capability id. */
  capability?: string;
  /** A human detail appended to the computed message. */
  detail?: string;
  /** The underlying error, kept for diagnosis. */
  cause?: unknown;
}

function formatMessage(code: ErrorCode, o: DriverErrorOptions): string {
  const parts: string[] = [code];
  if (o.op) parts.push(`in ${o.op}`);
  if (o.target) parts.push(`on ${o.target}`);
  let msg = parts.join(' ');
  if (o.currentState) msg += `: instance is ${o.currentState}`;
  if (o.capability) msg += `: capability ${o.capability} is not supported`;
  if (o.issues && o.issues.length > 0) {
    msg += ': ' + o.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
  }
  if (o.detail) msg += ` (${o.detail})`;
  return msg;
}

/**
 * The only error a driver is allowed to throw through the contract. Its `code` is one
 * of ERROR_CODES; the message is computed from the structured fields.
 */
export class DriverError extends Error {
  override readonly name = 'DriverError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly op: string | undefined;
  readonly target: string | undefined;
  readonly issues: InputIssue[] | undefined;
  readonly currentState: PowerState | 'RESCUE' | undefined;
  readonly capability: string | undefined;

  constructor(code: ErrorCode, options: DriverErrorOptions = {}) {
    super(formatMessage(code, options), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = ERROR_CODES[code].retryable;
    this.op = options.op;
    this.target = options.target;
    this.issues = options.issues;
    this.currentState = options.currentState;
    this.capability = options.capability;
  }

  /** A copy with `op` filled in when the thrower did not know it. */
  withOp(op: string): DriverError {
    if (this.op) return this;
    const copy = new DriverError(this.code, { ...this.toOptions(), op });
    copy.stack = this.stack;
    return copy;
  }

  toOptions(): DriverErrorOptions {
    return {
      op: this.op,
      target: this.target,
      issues: this.issues,
      currentState: this.currentState,
      capability: this.capability,
      cause: this.cause,
    };
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      retryable: this.retryable,
      message: this.message,
      op: this.op,
      target: this.target,
      issues: this.issues,
      currentState: this.currentState,
      capability: this.capability,
    };
  }
}

/**
 * True for a DriverError, also one from another copy of core (two installed versions);
 * checks the shape rather than the prototype.
 */
export function isDriverError(value: unknown): value is DriverError {
  if (value instanceof DriverError) return true;
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { name?: unknown }).name === 'DriverError' &&
    isErrorCode((value as { code?: unknown }).code)
  );
}

/** Anything thrown -> a DriverError: contract errors pass through, the rest become INTERNAL with the cause kept. */
export function toDriverError(value: unknown, op?: string): DriverError {
  if (isDriverError(value)) {
    if (value instanceof DriverError) return op ? value.withOp(op) : value;
    const foreign = value as DriverError;
    return new DriverError(foreign.code, {
      op: foreign.op ?? op,
      target: foreign.target,
      issues: foreign.issues,
      currentState: foreign.currentState,
      capability: foreign.capability,
      cause: foreign,
    });
  }
  const detail = value instanceof Error ? `${value.name}: ${value.message}` : String(value);
  return new DriverError('INTERNAL', { op, detail, cause: value });
}

/** Shorthands drivers use for the common cases. */
export const errors = {
  notFound: (uuid: string, op?: string) => new DriverError('INSTANCE_NOT_FOUND', { op, target: uuid }),
  exists: (uuid: string, op?: string) => new DriverError('INSTANCE_EXISTS', { op, target: uuid }),
  invalidState: (uuid: string, currentState: PowerState | 'RESCUE', op?: string) =>
    new DriverError('INVALID_STATE', { op, target: uuid, currentState }),
  unsupported: (capability: string, op?: string) => new DriverError('UNSUPPORTED', { op, capability }),
  invalidInput: (issues: InputIssue[], op?: string) => new DriverError('INVALID_INPUT', { op, issues }),
};
