import type { InstanceSpecInput } from '@nova-common/core';
import type { ResolvedOptions } from '../config.js';
import type { SequencedCall } from '../commands/call.js';
import type { Model } from '../model/model.js';
import type { PropertyId } from '../properties/catalog.js';
import type { StepRecord } from '../result.js';
import type { Session } from './session.js';

/** Everything one sequence needs: the driver session, the model, and what has been done so far. */
export interface ExecContext {
  session: Session;
  model: Model;
  options: ResolvedOptions;
  /** Steps as run (expected vs actual), the counterexample when the sequence fails. */
  trace: StepRecord[];
  /** The calls as run: the replay file. */
  calls: SequencedCall[];
  /** Image ids of the snapshots produced by this sequence, by index. */
  produced: string[];
  /** Property ids whose checks are off (already failed in this run). */
  disabled: ReadonlySet<PropertyId>;
  /** The spec actually sent for each spawned uuid (after adaptSpec), for programs. */
  sentSpecs: Map<string, InstanceSpecInput>;
}

/** A fresh context for one sequence. */
export function newContext(session: Session, model: Model, options: ResolvedOptions, disabled: ReadonlySet<PropertyId>): ExecContext {
  return { session, model, options, trace: [], calls: [], produced: [], disabled, sentSpecs: new Map() };
}

/**
 * The command a call belongs to, for leaving it out after a failure: the operation, or
 * `spawn:<variant>` for a spawn planned to fail.
 */
export function commandKey(call: SequencedCall): string {
  return call.op === 'spawn' && call.variant !== undefined && call.variant !== 'normal' ? `spawn:${call.variant}` : call.op;
}
