import type { PowerState } from '../schemas/power-state.js';

/**
 * The rows of the semantics table: every power state an existing instance can report,
 * plus RESCUE (power RUNNING, booted from a rescue image) and ABSENT (no such instance).
 */
export const SEMANTIC_STATES = ['ABSENT', 'RUNNING', 'PAUSED', 'SHUTDOWN', 'SUSPENDED', 'CRASHED', 'NOSTATE', 'RESCUE'] as const;
export type SemanticState = (typeof SEMANTIC_STATES)[number];

/** The power state getInfo reports in a semantic state. */
export function powerStateOf(state: Exclude<SemanticState, 'ABSENT'>): PowerState {
  return state === 'RESCUE' ? 'RUNNING' : state;
}

// The columns of the table come from the operation registry: each operation names its own.
export { TABLE_OPERATIONS, type TableOperation } from '../operations/registry.js';
