/**
 * The budget of steering: how much more model work a run may spend, after its configured
 * sequences, on rounds aimed at the cells of the semantics table it has not reached. Either
 * model steps (`5000steps`) or wall time (`60s`, `500ms`, `2m`).
 */
export type Budget = { steps: number } | { ms: number };

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** Parse `60s`, `500ms`, `2m` or `5000steps`; throws RangeError naming `field` otherwise. */
export function parseBudget(text: string, field = 'budget'): Budget {
  const m = /^\s*(\d+)\s*(steps?|ms|s|m)\s*$/i.exec(text);
  if (m === null) throw new RangeError(`${field} must be a step count or a duration such as 5000steps, 60s, 500ms or 2m, got ${JSON.stringify(text)}`);
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  if (!Number.isSafeInteger(n)) throw new RangeError(`${field} is too large: ${JSON.stringify(text)}`);
  return unit.startsWith('step') ? { steps: n } : { ms: n * UNITS[unit]! };
}

/** A budget given as text or as an object, checked; RangeError naming `field` when it is neither. */
export function checkBudget(value: string | Budget, field = 'budget'): Budget {
  if (typeof value === 'string') return parseBudget(value, field);
  if (value !== null && typeof value === 'object') {
    const steps = (value as { steps?: unknown }).steps;
    const ms = (value as { ms?: unknown }).ms;
    if (steps !== undefined && ms === undefined && Number.isSafeInteger(steps) && (steps as number) >= 0) return { steps: steps as number };
    if (ms !== undefined && steps === undefined && Number.isSafeInteger(ms) && (ms as number) >= 0) return { ms: ms as number };
  }
  throw new RangeError(`${field} must be { steps: n } or { ms: n } with a non-negative integer, or a string such as 5000steps or 60s, got ${JSON.stringify(value)}`);
}

/** `5000 steps` / `60s`, for reports and messages. */
export function formatBudget(budget: Budget): string {
  if ('steps' in budget) return `${budget.steps} steps`;
  return budget.ms % 1000 === 0 ? `${budget.ms / 1000}s` : `${budget.ms}ms`;
}

/** Tracks what steering has spent against its budget. */
export class BudgetMeter {
  private readonly t0 = performance.now();
  private readonly steps0: number;

  constructor(
    readonly budget: Budget,
    private readonly stepsNow: () => number,
  ) {
    this.steps0 = stepsNow();
  }

  get spent(): boolean {
    return 'steps' in this.budget ? this.stepsNow() - this.steps0 >= this.budget.steps : performance.now() - this.t0 >= this.budget.ms;
  }
}
