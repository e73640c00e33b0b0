import type { RuleId } from '@nova-common/core';
import type { PropertyId } from '../properties/catalog.js';

/**
 * A broken promise of the contract, found by a check. `property` is the property id the
 * check belongs to; `rule` the rule id; `commandKey` names the command that exposed it
 * (an operation, or `spawn:oversized` / `spawn:unknownNode`), so a run can leave that command
 * out and go on judging the other properties.
 */
export class Violation extends Error {
  override readonly name = 'Violation';
  constructor(
    readonly property: PropertyId,
    readonly rule: RuleId,
    message: string,
    readonly commandKey: string | undefined,
    readonly expected?: unknown,
    readonly actual?: unknown,
    /** True when the call's own outcome differed from the model's: model and driver are no longer in step. */
    readonly diverged = false,
  ) {
    super(message);
  }
}

export function isViolation(value: unknown): value is Violation {
  return value instanceof Violation;
}

/** A compact JSON rendering for messages. */
export function show(value: unknown): string {
  try {
    const s = JSON.stringify(value, (_k, v: unknown) => (v instanceof Set ? [...v] : v instanceof Map ? Object.fromEntries(v) : v));
    return s === undefined ? String(value) : s.length > 600 ? `${s.slice(0, 600)}…` : s;
  } catch {
    return String(value);
  }
}
