import { z } from 'zod';

/**
 * Power states, with the numeric values Nova uses (nova/compute/power_state.py), so reports
 * and events line up with Nova's. A driver reports power state only: vm_state and task_state
 * belong to the orchestrator.
 */
export const POWER_STATE_VALUES = {
  NOSTATE: 0x00,
  RUNNING: 0x01,
  PAUSED: 0x03,
  SHUTDOWN: 0x04,
  CRASHED: 0x06,
  SUSPENDED: 0x07,
} as const;

export const PowerStateSchema = z
  .enum(['NOSTATE', 'RUNNING', 'PAUSED', 'SHUTDOWN', 'CRASHED', 'SUSPENDED'])
  .describe('Power state of an instance, as Nova defines it.');
export type PowerState = z.infer<typeof PowerStateSchema>;
export const POWER_STATES = PowerStateSchema.options;

/** The states restoreState brings an instance back to: the ones a caller can ask for. */
export const RestorableStateSchema = z.enum(['RUNNING', 'SHUTDOWN', 'PAUSED', 'SUSPENDED']);
export type RestorableState = z.infer<typeof RestorableStateSchema>;
