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

/** The columns: each instance operation, with reboot split by type. */
export const TABLE_OPERATIONS = [
  'spawn',
  'destroy',
  'getInfo',
  'powerOff',
  'powerOn',
  'rebootSoft',
  'rebootHard',
  'pause',
  'unpause',
  'suspend',
  'resume',
  'rescue',
  'unrescue',
  'rebuild',
  'snapshot',
  'attachVolume',
  'detachVolume',
  'extendVolume',
  'attachInterface',
  'detachInterface',
  'getConsoleOutput',
] as const;
export type TableOperation = (typeof TABLE_OPERATIONS)[number];
